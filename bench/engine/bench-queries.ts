// The SQL and options of bench:engine's queries that other bench tools run alone too
// (profile-windowed.ts): one definition, so a profile is of the query the bench measures.

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
