// Checks that keep one bad record from failing a whole micro-batch. Each returns a reason (the
// record becomes a dead letter) or undefined. They run before anything is written, because a
// sink or topic that refuses one record refuses the batch holding it, and the batch would be
// retried — and refused — until the engine gave up.
import { isUtf8 } from 'node:buffer';
import type { Message } from 'kafkajs';
import type { Row } from '@sluice/query-plan';
import type { OutputColumn } from '../sinks/format-row';
import { maxRecordBytes, messageBytes } from './kafka-limits';

/**
 * Bytes a PostgreSQL sink key (all key columns together) may take. A btree index entry holds at
 * most 2,704 bytes (PostgreSQL's BTMaxItemSize for 8 kB pages: "index row size … exceeds btree
 * version 4 maximum 2704"); values are compressed first only when that helps, and random text
 * does not compress (the attack that found this: "index row requires 10024 bytes, maximum size
 * is 8191"). 2,000 leaves room for the tuple header and each column's length word and alignment.
 */
export const PG_MAX_KEY_BYTES = 2000;

export type RowGuard = (row: Row) => string | undefined;

/** Where in `buf` UTF-8 decoding first fails (undefined when it does not). */
export function firstInvalidUtf8Byte(buf: Buffer): number | undefined {
  if (isUtf8(buf)) return undefined;
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= buf.length) return i; // truncated sequence at the end
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return buf.length; // isUtf8 disagreed; report the end rather than nothing
}

/** Text formats decode bytes as UTF-8; invalid bytes would silently become U+FFFD. */
export function invalidTextReason(value: Buffer | null): string | undefined {
  if (value === null) return undefined;
  const at = firstInvalidUtf8Byte(value);
  return at === undefined
    ? undefined
    : `value is not valid UTF-8 (first invalid byte at offset ${at} of ${value.length})`;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function valueBytes(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (v === null || v === undefined) return 0;
  return 8;
}

/**
 * PostgreSQL sink: the key must fit a btree entry, and text must be storable — PostgreSQL text
 * cannot hold NUL, and node-postgres would turn an unpaired UTF-16 surrogate into U+FFFD
 * (silent corruption), so both are refused here rather than stored wrongly or failing the batch.
 */
export function postgresRowGuard(columns: OutputColumn[], key: string[]): RowGuard {
  const textColumns = columns.filter((c) => c.type === 'string').map((c) => c.name);
  return (row) => {
    let keyBytes = 0;
    for (const k of key) keyBytes += valueBytes(row[k]);
    if (keyBytes > PG_MAX_KEY_BYTES) {
      return `sink key (${key.join(', ')}) is ${keyBytes} bytes; the PostgreSQL sink indexes at most ${PG_MAX_KEY_BYTES} bytes per key (a btree entry holds at most 2704)`;
    }
    for (const c of textColumns) {
      const v = row[c];
      if (typeof v !== 'string') continue;
      if (v.includes('\u0000'))
        return `column "${c}" contains a NUL character, which PostgreSQL text cannot store`;
      if (LONE_SURROGATE.test(v))
        return `column "${c}" is not valid Unicode (an unpaired surrogate), which PostgreSQL text cannot store`;
    }
    return undefined;
  };
}

/** Bytes the JSON form of `row` can take at most: every UTF-16 unit escapes to ≤ 6 bytes. */
function jsonUpperBound(row: Row): number {
  // for…in, not Object.entries: this runs once per sink row, and entries() builds a pair per column.
  let n = 2;
  for (const k in row) {
    const v = row[k];
    n += 6 * k.length + 4 + (typeof v === 'string' ? 6 * v.length + 2 : 32);
  }
  return n;
}

/**
 * Kafka sink: the formatted record must fit the topic's max.message.bytes. Rows far below the
 * limit are let through on an upper bound, without formatting them twice.
 */
export function kafkaRowGuard(
  topic: string,
  format: (row: Row) => Message,
  topicMaxMessageBytes: number,
): RowGuard {
  const max = maxRecordBytes(topicMaxMessageBytes);
  return (row) => {
    // The key repeats at most every column, hence twice the bound.
    if (2 * jsonUpperBound(row) + 64 <= max) return undefined;
    const n = messageBytes(format(row));
    return n > max
      ? `output record is ${n} bytes; topic ${topic} takes at most ${max} bytes per record (max.message.bytes ${topicMaxMessageBytes})`
      : undefined;
  };
}

/** A repartition record must fit its topic too (it carries the whole filtered input row). */
export function oversizeRecordReason(
  m: Message,
  topic: string,
  topicMaxMessageBytes: number,
): string | undefined {
  return oversizeBytesReason(messageBytes(m), topic, topicMaxMessageBytes);
}

/** Why a record of `n` bytes (messageBytes) cannot go to `topic`, if it cannot. */
export function oversizeBytesReason(
  n: number,
  topic: string,
  topicMaxMessageBytes: number,
): string | undefined {
  const max = maxRecordBytes(topicMaxMessageBytes);
  return n > max
    ? `record is ${n} bytes in ${topic}, which takes at most ${max} bytes per record (max.message.bytes ${topicMaxMessageBytes})`
    : undefined;
}
