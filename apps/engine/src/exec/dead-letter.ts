// A record that cannot be processed goes to `sluice.<queryId>.dlq` with the reason; the query
// keeps running (Spark would fail the whole query). Two stages produce dead letters:
//  - input: the source record could not be decoded or evaluated, or is invalid text;
//  - output: what the record (or an aggregated group) produced cannot be written to the sink —
//    too large for the sink's key index or the topic, or refused by the database.
// A dead letter must itself fit in the DLQ topic, or the batch holding it would fail on every
// retry: its key and value are cut to fit, recording `truncated: true` and the original sizes.
import type { Message } from 'kafkajs';
import type { SourceRecord } from '../source/group-reader';
import { messageBytes } from './kafka-limits';

type Encoding = 'utf8' | 'base64' | 'json';

export interface DeadLetter {
  queryId: string;
  reason: string;
  stage: 'input' | 'output';
  /** The source record; null for an aggregated output row (it has no single input record). */
  source: { topic: string; partition: number; offset: number; timestamp: string } | null;
  /** Output rows: the task and batch that produced the row. */
  batch?: { task: string; batchId: number };
  /**
   * A row stage 2 could not fold: the source record the row came from (`source` is then the
   * repartition record and `value` the row alone). Absent for rows written without an origin.
   */
  origin?: { topic: string; partition: number; offset: number };
  key: string | null;
  keyEncoding?: 'base64';
  /**
   * The record's value as UTF-8 text when it is valid UTF-8, otherwise base64 (`encoding`); for
   * an aggregated output row, the row as JSON text.
   */
  value: string | null;
  encoding: Encoding;
  /** Present when key or value were cut to fit the DLQ topic. */
  truncated?: true;
  /** Size in bytes of the value before it was cut. */
  originalBytes?: number;
  /** Size in bytes of the key before it was cut. */
  originalKeyBytes?: number;
}

/** Reasons come from error messages that may quote the input; a DLQ entry is not a copy of it. */
const MAX_REASON_CHARS = 1000;
/** A key longer than this is cut first when a dead letter does not fit. */
const KEY_KEEP_BYTES = 1024;

type Payload = { kind: 'text'; text: string; encoding: 'utf8' | 'json' } | { kind: 'binary'; raw: Buffer };

function payloadOf(buf: Buffer): Payload {
  const s = buf.toString('utf8');
  // Round trip: invalid UTF-8 would have been replaced by U+FFFD and not come back equal.
  return Buffer.byteLength(s, 'utf8') === buf.length && Buffer.from(s, 'utf8').equals(buf)
    ? { kind: 'text', text: s, encoding: 'utf8' }
    : { kind: 'binary', raw: buf };
}

function payloadBytes(p: Payload): number {
  return p.kind === 'text' ? Buffer.byteLength(p.text, 'utf8') : p.raw.length;
}

/** The longest prefix of `text` whose JSON string form takes at most `maxBytes` bytes. */
function jsonPrefix(text: string, maxBytes: number): string {
  const fits = (n: number): boolean =>
    Buffer.byteLength(JSON.stringify(text.slice(0, n)), 'utf8') <= maxBytes;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  // Never end on the first half of a surrogate pair (that would be invalid text).
  const last = text.charCodeAt(lo - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? lo - 1 : lo);
}

/** `p` cut so that its JSON string form (base64 for binary) takes at most `maxBytes`. */
function cut(p: Payload, maxBytes: number): string {
  const room = Math.max(maxBytes, 2);
  if (p.kind === 'binary') return p.raw.subarray(0, Math.floor((room - 2) / 4) * 3).toString('base64');
  return jsonPrefix(p.text, room);
}

const encoded = (p: Payload): string => (p.kind === 'text' ? p.text : p.raw.toString('base64'));
const encodingOf = (p: Payload): Encoding => (p.kind === 'text' ? p.encoding : 'base64');

function build(args: {
  base: Omit<DeadLetter, 'key' | 'keyEncoding' | 'value' | 'encoding' | 'reason'>;
  reason: string;
  key: Payload | null;
  value: Payload | null;
  messageKey: string;
  maxRecordBytes: number;
}): Message {
  const reason =
    args.reason.length > MAX_REASON_CHARS ? `${args.reason.slice(0, MAX_REASON_CHARS - 3)}...` : args.reason;
  const headers = { 'sluice-reason': reason.slice(0, 200) };
  const body: DeadLetter = {
    ...args.base,
    reason,
    key: args.key ? encoded(args.key) : null,
    ...(args.key?.kind === 'binary' ? { keyEncoding: 'base64' as const } : {}),
    value: args.value ? encoded(args.value) : null,
    encoding: args.value ? encodingOf(args.value) : 'utf8',
  };
  const size = (b: DeadLetter): number =>
    messageBytes({ key: args.messageKey, value: JSON.stringify(b), headers });
  if (size(body) <= args.maxRecordBytes)
    return { key: args.messageKey, value: JSON.stringify(body), headers };

  body.truncated = true;
  if (args.key && payloadBytes(args.key) > KEY_KEEP_BYTES) {
    body.originalKeyBytes = payloadBytes(args.key);
    body.key = cut(args.key, KEY_KEEP_BYTES + 2); // + the quotes of its JSON string
  }
  if (args.value) {
    body.originalBytes = payloadBytes(args.value);
    // What everything but the value takes; the value gets the rest.
    const rest = size({ ...body, value: '' }) - 2;
    body.value = cut(args.value, args.maxRecordBytes - rest);
  }
  return { key: args.messageKey, value: JSON.stringify(body), headers };
}

/** A source record that failed before producing output (decoding, evaluation, invalid text). */
export function deadLetterMessage(
  queryId: string,
  record: SourceRecord,
  reason: string,
  maxRecordBytes: number,
  stage: 'input' | 'output' = 'input',
  origin?: DeadLetter['origin'],
): Message {
  return build({
    base: {
      queryId,
      stage,
      source: {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        timestamp: new Date(record.timestampMs).toISOString(),
      },
      ...(origin ? { origin } : {}),
    },
    reason,
    key: record.key ? payloadOf(record.key) : null,
    value: record.value ? payloadOf(record.value) : null,
    messageKey: `${record.topic}:${record.partition}:${record.offset}`,
    maxRecordBytes,
  });
}

/** An aggregated output row the sink cannot take: there is no single source record to show. */
export function outputRowDeadLetter(
  queryId: string,
  batch: { task: string; batchId: number },
  row: Record<string, unknown>,
  reason: string,
  maxRecordBytes: number,
): Message {
  return build({
    base: { queryId, stage: 'output', source: null, batch },
    reason,
    key: null,
    value: { kind: 'text', text: JSON.stringify(row), encoding: 'json' },
    messageKey: `${batch.task}:${batch.batchId}`,
    maxRecordBytes,
  });
}
