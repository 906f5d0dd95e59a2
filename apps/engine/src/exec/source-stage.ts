// Stage 1 of every query, one task per source partition: decode → WHERE → either the whole
// stateless plan (rows for the sink) or, for stateful plans, the rows keyed by group and routed
// to their shuffle partition through the repartition topic. Every per-record failure — invalid
// text, undecodable or unevaluable input, output the sink or a topic cannot take — makes that
// record a dead letter; the records around it carry on.
import type { Message } from 'kafkajs';
import {
  decodeRecord,
  sourceStream,
  type QueryExecutor,
  type Row,
  type SourceSpec,
  type StaticTableIndex,
} from '@sluice/query-plan';
import { groupsHash, type PartialReplay } from '../offsets/continue-offsets';
import type { SourceRecord } from '../source/group-reader';
import { deadLetterMessage } from './dead-letter';
import { invalidTextReason, oversizeBytesReason, oversizeRecordReason, type RowGuard } from './record-guards';
import {
  packBatchRecords,
  pendingRow,
  rowMessage,
  singleRowBatchBytes,
  type PendingShuffledRow,
  type RepartitionFormat,
} from './shuffle-codec';
import { shufflePartition } from './shuffle-partition';

export interface SourceStageResult {
  /** Stateless output rows (before sink formatting). */
  rows: Row[];
  /** The source record of each of `rows` (same index), for dead letters the sink causes later. */
  origins: SourceRecord[];
  /** Records for the repartition topic (stateful plans), in the checkpoint's format. */
  shuffled: Message[];
  deadLetters: Message[];
  numInputRows: number;
  invalidRows: number;
  eventTimes: number[];
}

/** What travels through the repartition topic: the group (key + values) and the filtered row. */
export interface ShuffledRow {
  k: string;
  /**
   * An aggregation's group values. Absent from batch-form rows (shuffle-codec.ts): stage 2
   * recovers them from `k` (executor.groupValues), as it does for stored groups, so they do not
   * travel twice; one-row records keep them (engines before batching read them).
   */
  v?: Row;
  e?: number;
  /** The filtered row; of an aggregation, only the columns stage 2 reads (executor.shuffleRow). */
  r: Row;
  /**
   * Origin [topic, partition, offset] of the source record: a new checkpoint continuing this one
   * reads again the records whose rows were never aggregated (continue-offsets.ts). A record with
   * several groups (sliding windows) adds their count and groupsHash, so a record whose groups
   * were only partly aggregated is re-read for the others only. Absent in rows written by
   * engines before it was added.
   */
  o?: [string, number, number] | [string, number, number, number, string];
  /** Stream–stream join: the side the row belongs to (its columns are prepared for it). */
  s?: 'l' | 'r';
}

export interface SourceStageArgs {
  queryId: string;
  source: SourceSpec;
  executor: QueryExecutor;
  numShufflePartitions: number;
  records: SourceRecord[];
  /**
   * The sink's checks of an output row. Stateless plans check each projected row; aggregations
   * check the row a group would produce (its key columns are known before any aggregate is),
   * so a group the sink could never store is refused with its first record.
   */
  guard?: RowGuard;
  /**
   * Stateful plans: the repartition topic, its max.message.bytes, and the record form the
   * checkpoint writes (shuffle-codec.ts; absent: one record per row, as before batching).
   */
  repartition?: { topic: string; maxMessageBytes: number; format?: RepartitionFormat };
  /** Largest dead letter the DLQ topic takes (kafka-limits.maxRecordBytes). */
  dlqMaxRecordBytes: number;
  /**
   * A continuing lineage's replay of a partly aggregated record: the groups the old version
   * never aggregated (continue-offsets.ts). Undefined: every group of the record.
   */
  partialReplay?: (record: SourceRecord) => PartialReplay | undefined;
  /** A stream–static join's table as cached for this trigger (static-table.ts). */
  staticTable?: StaticTableIndex;
}

/** The rows a decoded record stands for: itself, or its stream–static join rows. */
function joinedRows(executor: QueryExecutor, row: Row, table: StaticTableIndex | undefined): Row[] {
  return executor.staticJoin && table ? executor.staticJoin.join(row, table) : [row];
}

/** A stage result whose batch-form rows are not packed into records yet (`pending`). */
interface UnpackedResult extends SourceStageResult {
  pending: PendingShuffledRow[];
}

export function runSourceStage(args: SourceStageArgs): SourceStageResult {
  return packed(runSourceStageUnpacked(args), args);
}

/** Packs the pending batch-form rows into the result's repartition records. */
function packed(res: UnpackedResult, args: SourceStageArgs): SourceStageResult {
  const { pending, ...out } = res;
  if (pending.length > 0 && args.repartition)
    for (const m of packBatchRecords(pending, args.repartition.maxMessageBytes)) out.shuffled.push(m);
  return out;
}

function runSourceStageUnpacked(args: SourceStageArgs): UnpackedResult {
  const { executor, guard } = args;
  const repartition = args.repartition;
  const batchForm = repartition?.format === 'batch';
  // The whole batch fails (and is retried), never its records: joined with nothing, an inner
  // join would silently drop them all.
  if (executor.staticJoin && !args.staticTable)
    throw new Error(`the plan joins table "${executor.staticJoin.table}" but it is not loaded`);
  const out: UnpackedResult = {
    rows: [],
    origins: [],
    shuffled: [],
    pending: [],
    deadLetters: [],
    numInputRows: args.records.length,
    invalidRows: 0,
    eventTimes: [],
  };
  const dead = (record: SourceRecord, reason: string, stage: 'input' | 'output' = 'input'): void => {
    out.invalidRows++;
    out.deadLetters.push(deadLetterMessage(args.queryId, record, reason, args.dlqMaxRecordBytes, stage));
  };
  // One verdict per group and batch: most records of a batch fall into groups seen before.
  const groupVerdicts = new Map<string, string | undefined>();
  const groupReason = (key: string, values: Row): string | undefined => {
    if (!guard) return undefined;
    if (groupVerdicts.has(key)) return groupVerdicts.get(key);
    let reason: string | undefined;
    try {
      reason = guard(executor.finalize(values, executor.initBuffer()));
    } catch {
      reason = undefined; // not knowable before aggregating; the stage-2 check covers it
    }
    groupVerdicts.set(key, reason);
    return reason;
  };
  const shuffle = (record: SourceRecord, bodies: ShuffledRow[], groups?: { n: number; h: string }): void => {
    const origin: NonNullable<ShuffledRow['o']> = groups
      ? [record.topic, record.partition, record.offset, groups.n, groups.h]
      : [record.topic, record.partition, record.offset];
    // The bodies are this record's own (built just above): set the origin in place, no copy.
    const rows: PendingShuffledRow[] = bodies.map((b) => {
      b.o = origin;
      return pendingRow(shufflePartition(b.k, args.numShufflePartitions), JSON.stringify(b));
    });
    if (batchForm) {
      // Each row must fit a record of its own: batches are split between rows, never inside one.
      for (const r of rows) {
        const tooLarge = oversizeBytesReason(
          singleRowBatchBytes(r),
          repartition.topic,
          repartition.maxMessageBytes,
        );
        if (tooLarge) return dead(record, tooLarge);
      }
      for (const r of rows) out.pending.push(r);
      return;
    }
    const messages = rows.map((r, i) => rowMessage(bodies[i]!, r.json, r.partition));
    for (const m of messages) {
      const tooLarge = repartition && oversizeRecordReason(m, repartition.topic, repartition.maxMessageBytes);
      if (tooLarge) return dead(record, tooLarge);
    }
    out.shuffled.push(...messages);
  };

  for (const record of args.records) {
    try {
      if (record.refused) {
        dead(record, record.refused);
        continue;
      }
      const invalidText = invalidTextReason(record.value);
      if (invalidText) {
        dead(record, invalidText);
        continue;
      }
      const decoded = decodeRecord(args.source, record.value);
      if (!decoded.ok) {
        dead(record, decoded.reason);
        continue;
      }
      if (executor.streamJoin) {
        // Stream–stream join: WHERE applies to joined rows (stage 2); here only routing by key.
        const join = executor.streamJoin;
        const side = join.sideOf(sourceStream(args.source));
        const row = join.prepare(side, decoded.row);
        const t = join.eventTimeMs(side, row);
        if (t !== undefined) out.eventTimes.push(t);
        const key = join.key(side, row);
        // A NULL key matches nothing: only a left outer join's left rows still need the state.
        if (key !== undefined || (side === 'l' && join.outer))
          shuffle(record, [
            batchForm
              ? { k: key ?? join.nullKey, r: row, s: side }
              : { k: key ?? join.nullKey, v: {}, r: row, s: side },
          ]);
        continue;
      }
      const t = executor.eventTimeMs(decoded.row);
      if (t !== undefined) out.eventTimes.push(t);
      // A joined record may stand for several rows; all of them or none go on (a dead letter).
      const rows = joinedRows(executor, decoded.row, args.staticTable).filter((r) => executor.filter(r));
      if (rows.length === 0) continue;
      if (executor.kind === 'stateless') {
        const projected = rows.map((r) => executor.project(r));
        const refused = projected.map((p) => guard?.(p)).find((r) => r !== undefined);
        if (refused) {
          dead(record, refused, 'output');
          continue;
        }
        for (const p of projected) {
          out.rows.push(p);
          out.origins.push(record);
        }
      } else if (executor.kind === 'stateful') {
        // Keyed by the projected row's key columns; stage 2 projects the row again.
        shuffle(
          record,
          rows.map((row) => {
            const k = executor.statefulKey(executor.project(row));
            return batchForm ? { k, r: row } : { k, v: {}, r: row };
          }),
        );
      } else if (executor.kind === 'dedupe') {
        const refused = rows.map((r) => guard?.(executor.project(r))).find((r) => r !== undefined);
        if (refused) {
          dead(record, refused, 'output');
          continue;
        }
        shuffle(
          record,
          rows.map((row) =>
            batchForm
              ? { k: executor.dedupeKey(row), r: row }
              : { k: executor.dedupeKey(row), v: {}, r: row },
          ),
        );
      } else {
        const bodies: ShuffledRow[] = [];
        // Each body's group values (groupsHash needs them; batch-form bodies do not carry them).
        const values: Row[] = [];
        let refused: string | undefined;
        for (const row of rows) {
          // The columns stage 2 reads, once for all of the row's groups (sliding windows).
          const r = executor.shuffleRow(row);
          for (const g of executor.groups(row)) {
            refused = groupReason(g.key, g.values);
            if (refused) break;
            const body: ShuffledRow = batchForm ? { k: g.key, r } : { k: g.key, v: g.values, r };
            values.push(g.values);
            if (g.expiresAtMs !== undefined) body.e = g.expiresAtMs;
            bodies.push(body);
          }
          if (refused) break;
        }
        // All of a record's groups or none: a record half-counted would be wrong everywhere.
        if (refused) dead(record, refused, 'output');
        else if (bodies.length < 2) shuffle(record, bodies);
        else {
          // Count and hash describe all the record's groups, also when a replay keeps only some.
          const groups = { n: bodies.length, h: groupsHash(values) };
          const partial = args.partialReplay?.(record);
          const keep = partial && partial.h === groups.h ? new Set(partial.keys) : undefined;
          shuffle(record, keep ? bodies.filter((b) => keep.has(b.k)) : bodies, groups);
        }
      }
    } catch (err) {
      // An expression that fails on this row (bad cast, overflow…) is this record's problem only.
      dead(record, `evaluation failed: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Records the source stage handles between two turns of the event loop. */
export const SOURCE_STAGE_SLICE = 1000;

/**
 * runSourceStage over `slice`-record pieces, giving the event loop a turn between them: the
 * consumer group's heartbeats (sent from kafkajs' fetch loop on this same thread) keep going
 * while a large batch is decoded, as the Java consumer's background heartbeat thread keeps a
 * member alive while its poll loop processes (KIP-62). On a CPU-starved engine one unbroken
 * batch can outlast the session timeout and get the member expelled. Same result as one call.
 */
export async function runSourceStageInSlices(
  args: SourceStageArgs,
  slice = SOURCE_STAGE_SLICE,
  pause: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve)),
): Promise<SourceStageResult> {
  if (args.records.length <= slice) return runSourceStage(args);
  // The slices' batch-form rows are packed once, at the end: records as full as one call's.
  const out: UnpackedResult = {
    rows: [],
    origins: [],
    shuffled: [],
    pending: [],
    deadLetters: [],
    numInputRows: 0,
    invalidRows: 0,
    eventTimes: [],
  };
  for (let i = 0; i < args.records.length; i += slice) {
    if (i > 0) await pause();
    const part = runSourceStageUnpacked({ ...args, records: args.records.slice(i, i + slice) });
    for (const r of part.rows) out.rows.push(r);
    for (const o of part.origins) out.origins.push(o);
    for (const m of part.shuffled) out.shuffled.push(m);
    for (const p of part.pending) out.pending.push(p);
    for (const d of part.deadLetters) out.deadLetters.push(d);
    for (const e of part.eventTimes) out.eventTimes.push(e);
    out.numInputRows += part.numInputRows;
    out.invalidRows += part.invalidRows;
  }
  return packed(out, args);
}
