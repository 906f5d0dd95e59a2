// Kafka refuses a record *batch* larger than the topic's max.message.bytes (broker default
// 1,048,588 bytes), and kafkajs puts everything one send() holds for a partition into a single
// batch. So a batch of many small records fails exactly like one huge record does
// (MESSAGE_TOO_LARGE, measured: 20,000 records of ~90 bytes in one send), and a failed send fails
// the whole micro-batch, again on every retry. Sends are therefore cut by size, and a single
// record that cannot fit is kept out of Kafka before it is sent (see record-guards.ts).
import { ConfigResourceTypes, type Admin, type Message } from 'kafkajs';

/** Kafka's default for message.max.bytes / max.message.bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** The record batch header (61 bytes) plus slack: what one batch needs besides its records. */
const BATCH_OVERHEAD_BYTES = 1024;
/** Per-record framing: length, attributes, timestamp/offset deltas, key/value lengths (varints). */
const RECORD_OVERHEAD_BYTES = 40;
const HEADER_OVERHEAD_BYTES = 10;

const bytes = (v: Buffer | string | null | undefined): number =>
  v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;

/** Upper bound of the bytes `m` takes inside a record batch (no compression). */
export function messageBytes(m: Message): number {
  let n = RECORD_OVERHEAD_BYTES + bytes(m.key) + bytes(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const values = Array.isArray(v) ? v : [v];
    for (const one of values)
      n += HEADER_OVERHEAD_BYTES + bytes(k) + bytes(one as Buffer | string | undefined);
  }
  return n;
}

/** The largest single record (messageBytes) a topic with this max.message.bytes accepts. */
export function maxRecordBytes(maxMessageBytes: number): number {
  return Math.max(maxMessageBytes - BATCH_OVERHEAD_BYTES, Math.floor(maxMessageBytes / 2));
}

/**
 * Splits `messages` (in order) into sends that each stay within `maxMessageBytes` in total, so no
 * partition's batch can exceed it whatever the partitioner picks. A record that is too large on
 * its own travels alone (callers keep those out; Kafka would refuse it).
 */
export function chunkBySize(messages: Message[], maxMessageBytes: number): Message[][] {
  const budget = maxRecordBytes(maxMessageBytes);
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let size = 0;
  for (const m of messages) {
    const n = messageBytes(m);
    if (current.length > 0 && size + n > budget) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * max.message.bytes of each topic as the broker reports it (a topic override or the broker's
 * default); the Kafka default where the broker does not answer.
 */
export async function readMaxMessageBytes(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const limits = new Map<string, number>(topics.map((t) => [t, DEFAULT_MAX_MESSAGE_BYTES]));
  if (topics.length === 0) return limits;
  try {
    const res = await admin.describeConfigs({
      resources: topics.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['max.message.bytes'],
      })),
      includeSynonyms: false,
    });
    for (const r of res.resources) {
      const value = Number(r.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
      if (Number.isInteger(value) && value > 0) limits.set(r.resourceName, value);
    }
  } catch {
    // Not fatal: the default is what a topic created without overrides has.
  }
  return limits;
}
