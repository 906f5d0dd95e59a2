// `startingOffsets` of a Kafka source: "earliest", "latest" or Spark's JSON form
// {"topic":{"0":23,"1":-2}} where -2 means earliest and -1 latest. Resolved once, when a task
// has no checkpoint history yet; partitions missing from the JSON start at earliest.

export type StartingOffsets =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'specific'; offsets: Record<string, Record<string, number>> };

export function parseStartingOffsets(value: unknown): StartingOffsets {
  if (value === undefined || value === null || value === 'latest') return { kind: 'latest' };
  if (value === 'earliest') return { kind: 'earliest' };
  const parsed: unknown = typeof value === 'string' ? safeJson(value) : value;
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const offsets: Record<string, Record<string, number>> = {};
    for (const [topic, parts] of Object.entries(parsed as Record<string, unknown>)) {
      if (!parts || typeof parts !== 'object')
        throw new Error(`startingOffsets: topic "${topic}" must map partitions to offsets`);
      offsets[topic] = {};
      for (const [partition, offset] of Object.entries(parts as Record<string, unknown>)) {
        if (
          !/^\d+$/.test(partition) ||
          typeof offset !== 'number' ||
          !Number.isSafeInteger(offset) ||
          offset < -2
        ) {
          throw new Error(`startingOffsets: invalid entry ${topic}/${partition}: ${JSON.stringify(offset)}`);
        }
        offsets[topic]![partition] = offset;
      }
    }
    return { kind: 'specific', offsets };
  }
  throw new Error(
    `startingOffsets must be "earliest", "latest" or a JSON object, got ${JSON.stringify(value)}`,
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`startingOffsets is not valid JSON: ${text}`);
  }
}

export function resolveStartingOffset(
  start: StartingOffsets,
  topic: string,
  partition: number,
  earliest: number,
  latest: number,
): number {
  if (start.kind === 'earliest') return earliest;
  if (start.kind === 'latest') return latest;
  const offset = start.offsets[topic]?.[String(partition)];
  if (offset === undefined || offset === -2) return earliest;
  if (offset === -1) return latest;
  return offset;
}
