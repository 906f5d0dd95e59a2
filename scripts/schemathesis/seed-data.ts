// Real resources for the fuzzer to aim at. Ids schemathesis makes up almost never exist, so on its
// own it learns little beyond "404"; with these, half of the generated `{id}`s name a live query,
// operation or token (see run-config.ts) and deploy/scale/scaling/stop/delete reach the service
// code and the database. Created through the API, like any client would.
const SPEC = (name: string) =>
  [
    `name: ${name}`,
    'sources:',
    '  events:',
    '    kafka: { topic: sluice.fuzz.events, startingOffsets: earliest }',
    '    format: json',
    '    schema: { user_id: string, amount: long, ts: timestamp }',
    '    watermark: { column: ts, delay: 10 seconds }',
    'sql: |',
    '  SELECT user_id, COUNT(*) AS n, SUM(amount) AS total FROM events',
    "  GROUP BY user_id, window(ts, '1 minute')",
    'sink:',
    '  kafka: { topic: sluice.fuzz.totals }',
    'outputMode: update',
    'trigger: { processingTime: 1 second }',
    '',
  ].join('\n');

export interface SeedIds {
  queries: string[];
  operations: string[];
  tokens: string[];
}

export async function seed(base: string, token: string): Promise<SeedIds> {
  const call = async (
    method: string,
    url: string,
    body: string,
    contentType: string,
  ): Promise<Record<string, unknown>> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType },
      body,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`seeding: ${method} ${url} answered ${res.status}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const ids: SeedIds = { queries: [], operations: [], tokens: [] };
  // One deployed (stand-in engines run it), one registered only, one with a second version.
  for (const [name, deploy] of [
    ['fuzz-seed-running', true],
    ['fuzz-seed-stopped', false],
    ['fuzz-seed-versions', true],
  ] as const) {
    const created = await call('POST', `/api/v1/queries?deploy=${deploy}`, SPEC(name), 'application/yaml');
    ids.queries.push(String(created.id));
    const op = created.operation as { id?: string } | null;
    if (op?.id) ids.operations.push(op.id);
  }
  await call('POST', `/api/v1/queries/${ids.queries[2]}/versions`, SPEC('fuzz-seed-versions'), 'text/yaml');
  const viewer = await call(
    'POST',
    '/api/v1/tokens',
    JSON.stringify({ name: 'fuzz-seed-viewer', role: 'viewer' }),
    'application/json',
  );
  ids.tokens.push(String(viewer.id));
  return ids;
}
