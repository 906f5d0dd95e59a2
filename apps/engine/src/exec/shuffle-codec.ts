// How shuffled rows travel through the repartition topic (issue 20 §5). Two record forms, and
// every stage-2 reader reads both, so a topic holding records of either stays readable:
//  - `rows`: one record per row, value = the ShuffledRow as JSON, key = its group key (engines
//    before batching wrote only these; checkpoints they created keep writing them);
//  - `batch`: one record per shuffle partition for up to a quarter of the topic's record limit of
//    rows, value = BATCH_MARKER then a JSON array of ShuffledRows, key = the shuffle partition
//    (as text). Kafka Streams and Spark both move many rows per shuffle unit; one record per row
//    made kafkajs encode and decode every row once more than the input and output (the profile).
// The marker byte is not JSON: an engine older than this change that meets a batch record fails
// its batch on JSON.parse before touching state (nothing committed, nothing counted), instead of
// reading an array as a row. Which form a checkpoint writes is fixed in its metadata
// (checkpoint-store.ts `repartitionFormat`), see ARCHITECTURE.md "Repartition record format".
import type { Message } from 'kafkajs';
import type { QueryMetadata } from '../checkpoint/checkpoint-store';
import type { SourceRecord } from '../source/group-reader';
import { maxRecordBytes, messageBytes } from './kafka-limits';
import type { FailedRow } from './shuffle-result';
import type { ShuffledRow } from './source-stage';

export type RepartitionFormat = NonNullable<QueryMetadata['repartitionFormat']>;

/** What a checkpoint created by this engine writes. */
export const NEW_CHECKPOINT_REPARTITION_FORMAT: RepartitionFormat = 'batch';

/** What a checkpoint writes: checkpoints created before batching say nothing and keep rows. */
export function repartitionFormatOf(meta: Pick<QueryMetadata, 'repartitionFormat'>): RepartitionFormat {
  return meta.repartitionFormat ?? 'rows';
}

/** First byte of a batch record's value (never the first byte of JSON text). */
export const BATCH_MARKER = 0x00;
const BATCH_PREFIX = String.fromCharCode(BATCH_MARKER);

/** Per-record framing as messageBytes counts it (kafka-limits.ts), for sizes summed by hand. */
const emptyRecordBytes = messageBytes({ key: null, value: null });

/** A row bound for the repartition topic: its shuffle partition, its JSON text and its size. */
export interface PendingShuffledRow {
  partition: number;
  json: string;
  /** UTF-8 bytes of `json` (counted once: both the size check and the packing need it). */
  bytes: number;
}

export function pendingRow(partition: number, json: string): PendingShuffledRow {
  return { partition, json, bytes: Buffer.byteLength(json, 'utf8') };
}

/** The row as a record of the `rows` form. */
export function rowMessage(row: ShuffledRow, json: string, partition: number): Message {
  return { key: row.k, value: json, partition };
}

/**
 * The bytes a batch record holding only this row takes: if even that does not fit the topic, the
 * row (its source record) is a dead letter, as an oversize one-row record always was.
 */
export function singleRowBatchBytes(row: PendingShuffledRow): number {
  // marker + '[' + row + ']'
  return emptyRecordBytes + String(row.partition).length + row.bytes + 3;
}

/**
 * Packs rows into batch records: per shuffle partition, in arrival order (a partition's rows keep
 * their order, as one record per row did), each record at most a quarter of the largest record
 * the topic takes — large enough that framing costs nothing, small enough that several records
 * share one produce request. A row that alone exceeds that share gets a record of its own (the
 * caller has checked it fits the topic: singleRowBatchBytes).
 */
export function packBatchRecords(
  rows: readonly PendingShuffledRow[],
  topicMaxMessageBytes: number,
): Message[] {
  const limit = maxRecordBytes(topicMaxMessageBytes);
  const target = Math.floor(limit / 4);
  const byPartition = new Map<number, PendingShuffledRow[]>();
  for (const r of rows) {
    const list = byPartition.get(r.partition);
    if (list) list.push(r);
    else byPartition.set(r.partition, [r]);
  }
  const out: Message[] = [];
  for (const [partition, list] of [...byPartition].sort((a, b) => a[0] - b[0])) {
    const key = String(partition);
    const base = emptyRecordBytes + key.length + 2; // + marker + '['
    let parts: string[] = [];
    let size = base;
    const flush = (): void => {
      if (parts.length === 0) return;
      out.push({ key, value: `${BATCH_PREFIX}[${parts.join(',')}]`, partition });
      parts = [];
      size = base;
    };
    for (const r of list) {
      // Each row adds its text and one separator (',' or the closing ']').
      const n = r.bytes + 1;
      if (parts.length > 0 && size + n > target) flush();
      parts.push(r.json);
      size += n;
    }
    flush();
  }
  return out;
}

/**
 * The rows of one repartition record, of either form. A record that is neither is the topic's
 * corruption or a newer engine's format: a clear error (the batch fails and is retried; nothing
 * is counted), never a guess.
 */
export function decodeShuffledRecord(record: SourceRecord): ShuffledRow[] {
  const value = record.value;
  const where = `repartition record ${record.topic}[${record.partition}]@${record.offset}`;
  if (!value || value.length === 0) throw new Error(`${where} is empty`);
  let parsed: unknown;
  const batch = value[0] === BATCH_MARKER;
  try {
    parsed = JSON.parse(value.toString('utf8', batch ? 1 : 0));
  } catch (err) {
    throw new Error(
      `${where} cannot be read (not a format this engine knows; written by a newer engine?): ${(err as Error).message}`,
    );
  }
  const rows = batch ? parsed : [parsed];
  if (!Array.isArray(rows) || !rows.every(isShuffledRow))
    throw new Error(`${where} does not hold shuffled rows ({k, v, r})`);
  return rows;
}

function isShuffledRow(x: unknown): x is ShuffledRow {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  return typeof o.k === 'string' && typeof o.r === 'object' && o.r !== null;
}

/**
 * A stage-2 dead letter of one row: the repartition record it came in, its key and value cut down
 * to this row alone (a batch record holds rows of many source records, which carry on), and the
 * row's origin (its source record) when the row carries one.
 */
export function failedRow(record: SourceRecord, row: ShuffledRow, reason: string): FailedRow {
  const failed: FailedRow = {
    record: { ...record, key: Buffer.from(row.k, 'utf8'), value: Buffer.from(JSON.stringify(row), 'utf8') },
    reason,
  };
  if (Array.isArray(row.o)) failed.origin = { topic: row.o[0], partition: row.o[1], offset: row.o[2] };
  return failed;
}
