// The environment an engine process gets. Not the control plane's: that holds DATABASE_URL (the
// control plane's own database), SLUICE_BOOTSTRAP_TOKEN and SLUICE_SECRETS_KEY, and an engine
// runs user-written queries. Until this allow-list existed, the engine used the inherited
// DATABASE_URL for its PostgreSQL sink, so a sink could write into the token table.
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
];

export function engineEnvironment(
  parent: NodeJS.ProcessEnv,
  extra: Record<string, string> = {},
  sinkPostgresUrl?: string | null,
  tablePostgresUrls?: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const v = parent[name];
    if (v !== undefined) env[name] = v;
  }
  Object.assign(env, extra);
  if (sinkPostgresUrl) env.SLUICE_SINK_POSTGRES_URL = sinkPostgresUrl;
  if (tablePostgresUrls && Object.keys(tablePostgresUrls).length > 0)
    env.SLUICE_TABLE_POSTGRES_URLS = JSON.stringify(tablePostgresUrls);
  return env;
}
