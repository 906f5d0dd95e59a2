// A record that cannot be decoded or evaluated goes to `sluice.<queryId>.dlq` with the reason
// and its source position; the query keeps running (Spark would fail the whole query).
import type { Message } from 'kafkajs';
import type { SourceRecord } from '../source/group-reader';

export interface DeadLetter {
  queryId: string;
  reason: string;
  source: { topic: string; partition: number; offset: number; timestamp: string };
  key: string | null;
  /** UTF-8 text when the payload is valid UTF-8, otherwise base64 (see `encoding`). */
  value: string | null;
  encoding: 'utf8' | 'base64';
}

function text(buf: Buffer | null): { value: string | null; encoding: 'utf8' | 'base64' } {
  if (buf === null) return { value: null, encoding: 'utf8' };
  const s = buf.toString('utf8');
  return Buffer.from(s, 'utf8').equals(buf) ? { value: s, encoding: 'utf8' } : { value: buf.toString('base64'), encoding: 'base64' };
}

export function deadLetterMessage(queryId: string, record: SourceRecord, reason: string): Message {
  const body: DeadLetter = {
    queryId,
    reason,
    source: { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: new Date(record.timestampMs).toISOString() },
    key: record.key ? record.key.toString('utf8') : null,
    ...text(record.value),
  };
  return {
    key: `${record.topic}:${record.partition}:${record.offset}`,
    value: JSON.stringify(body),
    headers: { 'sluice-reason': reason.slice(0, 200) },
  };
}
