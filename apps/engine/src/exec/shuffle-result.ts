// What a shuffle (stage-2) task's batch produced, shared by the stages of every stateful operator
// (aggregation, dedup, session windows, stateful functions, joins).
import type { OutputMode, QueryExecutor, Row } from '@sluice/query-plan';
import type { SourceRecord } from '../source/group-reader';
import type { StateStore } from '../state/state-store';

/** What every shuffle-stage variant is given for one task's batch. */
export interface ShuffleStageInput {
  executor: QueryExecutor;
  outputMode: OutputMode;
  state: StateStore;
  records: SourceRecord[];
  /** The watermark in force for this batch (decided before it; 0 = none yet). */
  watermarkMs: number;
  watermarkEnabled: boolean;
}

export interface ShuffleStageResult {
  rows: Row[];
  /**
   * Rows this stage could not fold (an aggregate failed on the row), each a dead letter of its
   * own: a batch record's other rows carry on (shuffle-codec.ts failedRow).
   */
  failedRecords: FailedRow[];
  /** Groups whose output row could not be computed (the group values stand in for the row). */
  failedGroups: Array<{ row: Row; reason: string }>;
  /** Shuffled rows read (a batch record holds several). */
  numInputRows: number;
  numRowsDroppedByWatermark: number;
  maxEventTimeMs: number | undefined;
  updateTimeMs: number;
  removalTimeMs: number;
}

/** One row stage 2 could not fold: `record` shows the row alone (shuffle-codec.ts failedRow). */
export interface FailedRow {
  record: SourceRecord;
  reason: string;
  /** The row's source record, when the row carries it (ShuffledRow `o`). */
  origin?: { topic: string; partition: number; offset: number };
}

/** A result with nothing produced yet, for a batch of `numInputRows` shuffled rows. */
export function emptyShuffleResult(numInputRows: number): ShuffleStageResult {
  return {
    rows: [],
    failedRecords: [],
    failedGroups: [],
    numInputRows,
    numRowsDroppedByWatermark: 0,
    maxEventTimeMs: undefined,
    updateTimeMs: 0,
    removalTimeMs: 0,
  };
}
