// PostgreSQL connection URLs as sink connections see them: parsed once, compared by the database
// they reach, and shown without the password.

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

const DEFAULT_PORT = 5432;

/** The database a URL reaches, or undefined for something that is not a postgres URL. */
export function postgresTarget(raw: string): PostgresTarget | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') return undefined;
  // Query parameters override the authority and path (libpq, and pg-connection-string, which the
  // engine uses, both apply them last), so they decide which database a URL reaches.
  const q = u.searchParams;
  const host = (q.get('host') ?? u.hostname).toLowerCase();
  const user = q.get('user') ?? decodeURIComponent(u.username);
  const database =
    q.get('dbname') ?? q.get('database') ?? (decodeURIComponent(u.pathname.replace(/^\//, '')) || user);
  const port = Number(q.get('port') ?? (u.port || DEFAULT_PORT));
  return { host: normaliseHost(host), port, database, user };
}

// 127.0.0.1, localhost and ::1 are one machine: treat them as the same host, so a sink URL cannot
// reach the control plane's database by spelling its address another way.
function normaliseHost(host: string): string {
  return ['localhost', '127.0.0.1', '[::1]', '::1', ''].includes(host) ? 'loopback' : host;
}

/** True when both URLs name the same database on the same server (users and passwords aside). */
export function sameDatabase(a: string, b: string): boolean {
  const x = postgresTarget(a);
  const y = postgresTarget(b);
  if (!x || !y) return false;
  return x.host === y.host && x.port === y.port && x.database === y.database;
}

/** `user@host:port/database`: enough to recognise a connection, never its password. */
export function describeTarget(raw: string): string {
  const t = postgresTarget(raw);
  return t
    ? `${t.user || '(default user)'}@${t.host === 'loopback' ? '127.0.0.1' : t.host}:${t.port}/${t.database}`
    : '(invalid URL)';
}
