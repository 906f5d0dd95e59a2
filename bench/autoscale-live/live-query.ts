// The live autoscaling bench's query, also run by bench:cold-batch: a projection of the click
// records into a Kafka topic. One output row per input row, so counting the sink's committed
// records checks exactly-once.

export interface LiveQuery {
  name: string;
  source: string;
  sink: string;
  triggerMs: number;
}

/** The query's spec (YAML), reading `source` from its earliest offset. */
export function liveQuerySpec(q: LiveQuery): string {
  return [
    `name: ${q.name}`,
    'sources:',
    '  clicks:',
    `    kafka: { topic: ${q.source}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { user_id: string, url: string, ts: timestamp, bytes: long }',
    'sql: SELECT user_id, bytes FROM clicks',
    'sink:',
    `  kafka: { topic: ${q.sink} }`,
    'outputMode: append',
    `trigger: { processingTime: ${q.triggerMs} milliseconds }`,
    '',
  ].join('\n');
}
