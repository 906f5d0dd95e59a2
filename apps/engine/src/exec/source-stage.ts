// Stage 1 of every query, one task per source partition: decode → WHERE → either the whole
// stateless plan (rows for the sink) or, for stateful plans, the rows keyed by group and routed
// to their shuffle partition through the repartition topic.
import type { Message } from 'kafkajs';
import { decodeRecord, type QueryExecutor, type Row, type SourceSpec } from '@sluice/query-plan';
import type { SourceRecord } from '../source/group-reader';
import { deadLetterMessage } from './dead-letter';
import { shufflePartition } from './shuffle-partition';

export interface SourceStageResult {
  /** Stateless output rows (before sink formatting). */
  rows: Row[];
  /** Keyed rows for the repartition topic (stateful plans). */
  shuffled: Message[];
  deadLetters: Message[];
  numInputRows: number;
  invalidRows: number;
  eventTimes: number[];
}

/** What travels through the repartition topic: the group (key + values) and the filtered row. */
export interface ShuffledRow {
  k: string;
  v: Row;
  e?: number;
  r: Row;
}

export function runSourceStage(args: {
  queryId: string;
  source: SourceSpec;
  executor: QueryExecutor;
  numShufflePartitions: number;
  records: SourceRecord[];
}): SourceStageResult {
  const { executor } = args;
  const out: SourceStageResult = { rows: [], shuffled: [], deadLetters: [], numInputRows: args.records.length, invalidRows: 0, eventTimes: [] };
  for (const record of args.records) {
    try {
      const decoded = decodeRecord(args.source, record.value);
      if (!decoded.ok) {
        out.invalidRows++;
        out.deadLetters.push(deadLetterMessage(args.queryId, record, decoded.reason));
        continue;
      }
      const row = decoded.row;
      const t = executor.eventTimeMs(row);
      if (t !== undefined) out.eventTimes.push(t);
      if (!executor.filter(row)) continue;
      if (executor.kind === 'stateless') {
        out.rows.push(executor.project(row));
      } else if (executor.kind === 'dedupe') {
        const k = executor.dedupeKey(row);
        out.shuffled.push(shuffleMessage({ k, v: {}, r: row }, args.numShufflePartitions));
      } else {
        for (const g of executor.groups(row)) {
          const body: ShuffledRow = { k: g.key, v: g.values, r: row };
          if (g.expiresAtMs !== undefined) body.e = g.expiresAtMs;
          out.shuffled.push(shuffleMessage(body, args.numShufflePartitions));
        }
      }
    } catch (err) {
      // An expression that fails on this row (bad cast, overflow…) is this record's problem only.
      out.invalidRows++;
      out.deadLetters.push(deadLetterMessage(args.queryId, record, `evaluation failed: ${(err as Error).message}`));
    }
  }
  return out;
}

function shuffleMessage(body: ShuffledRow, partitions: number): Message {
  return { key: body.k, value: JSON.stringify(body), partition: shufflePartition(body.k, partitions) };
}
