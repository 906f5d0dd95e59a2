// The SQL and options of bench:engine's queries that other bench tools run alone too
// (profile-windowed.ts): one definition, so a profile is of the query the bench measures.

/** A source of the bench's click records (click-input.ts) in a spec's `sources:` block. */
export function clicksSource(name: string, topic: string): string {
  return `  ${name}:\n    kafka: { topic: ${topic}, startingOffsets: earliest }\n    format: json\n    schema: { id: long, user_id: string, url: string, bytes: long, ts: timestamp }\n    watermark: { column: ts, delay: 10 seconds }\n`;
}

/** (c) the 1-minute windowed count by key (repartition + state store). */
export const WINDOWED_QUERY = {
  sql: `SELECT window.start AS window_start, user_id, count(*) AS clicks FROM clicks GROUP BY window(ts, '1 minute'), user_id`,
  options: '{ maxOffsetsPerTrigger: 50000, numShufflePartitions: 4 }',
};

/** The batch-latency query: 1k-row batches of a filter and projection. */
export const LATENCY_QUERY = {
  sql: 'SELECT id, user_id FROM clicks WHERE bytes > 100',
  options: '{ maxOffsetsPerTrigger: 1000 }',
};

/** The queries the single-query tools (profile-windowed.ts, idle-cpu.ts) take by name. */
export const NAMED_QUERIES: Readonly<Record<string, { sql: string; options: string }>> = {
  windowed: WINDOWED_QUERY,
  latency: LATENCY_QUERY,
};

/** A query of NAMED_QUERIES, or a usage message on stderr and exit 1 (`tool` names the caller). */
export function namedQueryOrExit(tool: string, name: string | undefined): { sql: string; options: string } {
  const query = name === undefined ? undefined : NAMED_QUERIES[name];
  if (query) return query;
  process.stderr.write(`${tool}: --query must be one of ${Object.keys(NAMED_QUERIES).join(', ')}\n`);
  return process.exit(1);
}

/** The arguments after `node <engine entry…>` that run a spec as bench:engine runs it. */
export function engineRunArgs(spec: string, checkpoint: string, queryId: string, brokers: string): string[] {
  return ['run', '--spec', spec, '--checkpoint', checkpoint, '--query-id', queryId, '--brokers', brokers];
}
