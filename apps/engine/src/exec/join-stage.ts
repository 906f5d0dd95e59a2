// Stage 2 of a stream–stream join, one task per shuffle partition: both sides' rows of the
// partition's keys are joined through the state store (the pure join: @sluice/query-plan
// stream-join.ts), then WHERE and the projection apply to the joined rows. The task's watermark
// follows each side's event time (Spark: the minimum of the two sides' watermarks); each side's
// maximum is kept in the state store too, under JOIN_WATERMARK_KEY, so that a recovered task
// restores both (the commit log holds one maximum per task).
import type { QueryExecutor, Row, SourceSpec } from '@sluice/query-plan';
import type { WatermarkSpec } from '../offsets/watermark-tracker';
import type { JsonValue } from '../state/state-store';
import type { ShuffleStageInput, ShuffleStageResult } from './shuffle-result';
import { decodeShuffledRecord } from './shuffle-codec';

/** State key of the sides' highest event times ({l, r}); not a row key ("l:…"/"r:…"). */
export const JOIN_WATERMARK_KEY = '\u0000watermark';

export interface JoinStageResult extends ShuffleStageResult {
  /** Highest event time of each side in this batch. */
  sideMaxEventTimeMs: Partial<Record<'l' | 'r', number>>;
}

export function runJoinStage(args: Omit<ShuffleStageInput, 'outputMode'>): JoinStageResult {
  const { executor, state } = args;
  const join = executor.streamJoin;
  if (!join) throw new Error('runJoinStage needs a stream–stream join plan');
  const started = Date.now();
  const inputs: Array<{ side: 'l' | 'r'; row: Row }> = [];
  for (const record of args.records)
    for (const body of decodeShuffledRecord(record)) inputs.push({ side: body.s ?? 'l', row: body.r });
  const res = join.processBatch(state, inputs, args.watermarkEnabled ? args.watermarkMs : 0);
  const result: JoinStageResult = {
    rows: [],
    failedRecords: [],
    failedGroups: [],
    numInputRows: inputs.length,
    numRowsDroppedByWatermark: res.numRowsDroppedByWatermark,
    maxEventTimeMs: undefined,
    updateTimeMs: Date.now() - started,
    removalTimeMs: 0,
    sideMaxEventTimeMs: res.maxEventTimeMs,
  };
  for (const row of res.rows) {
    try {
      if (executor.filter(row)) result.rows.push(executor.project(row));
    } catch (err) {
      result.failedGroups.push({ row: row as Row, reason: `evaluation failed: ${(err as Error).message}` });
    }
  }
  const sides = Object.values(res.maxEventTimeMs);
  if (sides.length > 0) {
    result.maxEventTimeMs = Math.max(...sides);
    const kept = (state.get(JOIN_WATERMARK_KEY) ?? {}) as Record<string, number>;
    const next: Record<string, number> = { ...kept };
    for (const [side, t] of Object.entries(res.maxEventTimeMs)) next[side] = Math.max(kept[side] ?? t, t);
    state.put(JOIN_WATERMARK_KEY, next as JsonValue);
  }
  return result;
}

/** The watermark sources of a join task: each side with its source's delay. */
export function joinWatermarkSources(
  executor: QueryExecutor,
  sources: Readonly<Record<string, SourceSpec>>,
): WatermarkSpec[] | undefined {
  const join = executor.streamJoin;
  if (!join) return undefined;
  return [
    { source: 'l', delayMs: sources[join.left]?.watermark?.delayMs ?? 0 },
    { source: 'r', delayMs: sources[join.right]?.watermark?.delayMs ?? 0 },
  ];
}
