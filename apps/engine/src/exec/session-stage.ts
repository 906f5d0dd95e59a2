// Stage 2 of a session-window aggregation (GROUP BY session_window(ts, gap)): one state entry per
// grouping key holds that key's sessions ([[start, end, buffer], …], runtime/sessions.ts). Each
// row not behind the watermark joins or opens a session, merging the sessions it bridges; then
// sessions whose end the watermark has passed are evicted (Spark's
// StreamingSessionWindowStateManager evicts by session end) and rows are emitted by output mode:
// append — a session once, when it is evicted (closed); update — the sessions changed in this
// batch (a merge emits the merged session; the rows of the sessions it absorbed stay in the sink,
// as in Spark); complete — every session, every batch, nothing evicted.
import {
  addToSessions,
  fromStoredSessions,
  toStoredSessions,
  type Row,
  type Session,
} from '@sluice/query-plan';
import type { JsonValue, StateStore } from '../state/state-store';
import { emptyShuffleResult, type ShuffleStageInput, type ShuffleStageResult } from './shuffle-result';
import { forEachAdmittedRow, isBehindWatermark } from './admitted-rows';
import { failedRow } from './shuffle-codec';

export function runSessionStage(args: ShuffleStageInput): ShuffleStageResult {
  const { executor, state, watermarkMs, watermarkEnabled } = args;
  const gapMs = executor.session!.gapMs;
  const result = emptyShuffleResult(0);
  // The batch's working copy of every key it touches, written back once at the end.
  const touched = new Map<string, Session[]>();
  const started = Date.now();
  forEachAdmittedRow(args, result, (record, body) => {
    try {
      const time = executor.sessionTimeMs(body.r);
      if (time === undefined) return; // NULL session column: dropped, as in Spark
      if (isBehindWatermark(args, time)) {
        // The session column is not the watermark column: a row behind the watermark still
        // cannot open a session that would be evicted before it could change.
        result.numRowsDroppedByWatermark++;
        return;
      }
      const sessions = touched.get(body.k) ?? load(state, body.k);
      const rowBuffer = executor.update(executor.initBuffer(), body.r);
      touched.set(body.k, addToSessions(sessions, time, gapMs, rowBuffer, executor.mergeBuffers));
    } catch (err) {
      result.failedRecords.push(failedRow(record, body, `aggregation failed: ${(err as Error).message}`));
    }
  });
  for (const [key, sessions] of touched) state.put(key, stored(sessions));
  result.updateTimeMs = Date.now() - started;

  const removalStarted = Date.now();
  const evicted: Array<[string, Session]> = [];
  if (watermarkEnabled && watermarkMs > 0 && args.outputMode !== 'complete') {
    const changes: Array<[string, Session[]]> = [];
    for (const [key, value] of state.entries()) {
      const sessions = touched.get(key) ?? fromStoredSessions(value);
      const open = sessions.filter((s) => s.end > watermarkMs);
      if (open.length === sessions.length) continue;
      for (const s of sessions) if (s.end <= watermarkMs) evicted.push([key, s]);
      changes.push([key, open]);
    }
    for (const [key, open] of changes) {
      if (open.length === 0) state.remove(key);
      else state.put(key, stored(open));
    }
  }
  result.removalTimeMs = Date.now() - removalStarted;

  const emit = (key: string, s: Session): void => {
    const values: Row = {
      ...executor.groupValues(key),
      'session_window.start': s.start,
      'session_window.end': s.end,
    };
    try {
      result.rows.push(executor.finalize(values, s.buffer));
    } catch (err) {
      result.failedGroups.push({
        row: values,
        reason: `computing the output row failed: ${(err as Error).message}`,
      });
    }
  };
  if (args.outputMode === 'append') {
    for (const [key, s] of evicted) emit(key, s);
  } else if (args.outputMode === 'update') {
    for (const [key, sessions] of touched) for (const s of sessions) if (s.dirty) emit(key, s);
  } else {
    for (const [key, value] of state.entries()) for (const s of fromStoredSessions(value)) emit(key, s);
  }
  return result;
}

function load(state: StateStore, key: string): Session[] {
  const value = state.get(key);
  return value === undefined ? [] : fromStoredSessions(value);
}

function stored(sessions: readonly Session[]): JsonValue {
  return toStoredSessions(sessions) as unknown as JsonValue;
}
