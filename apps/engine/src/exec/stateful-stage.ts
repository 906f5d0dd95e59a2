// Stage 2 of a stateful-function plan (spec `stateful:`, Spark's flatMapGroupsWithState): the
// batch's rows are grouped by key (in arrival order), the function is called once per key with
// its rows and a GroupState, and the state it leaves is stored as {s: state, t?: timeout}. Then
// every stored key whose timeout has passed — the watermark beyond it (eventTime) or the clock
// (processingTime) — and that had no rows in this batch is called again with no rows and
// hasTimedOut = true, as Spark does. Output rows keep the declared output columns. A function
// that throws makes the key's rows dead letters and leaves its state as it was.
import { createGroupState, type Row } from '@sluice/query-plan';
import type { SourceRecord } from '../source/group-reader';
import type { JsonValue } from '../state/state-store';
import { emptyShuffleResult, type ShuffleStageInput, type ShuffleStageResult } from './shuffle-result';
import { forEachAdmittedRow } from './admitted-rows';
import { failedRow } from './shuffle-codec';
import type { ShuffledRow } from './source-stage';

interface StoredState {
  s: Record<string, unknown>;
  t?: number;
}

/** Rows one call may return at most: a runaway generator must not exhaust memory. */
export const MAX_OUTPUT_ROWS_PER_CALL = 100_000;

export function runStatefulStage(
  args: Omit<ShuffleStageInput, 'outputMode'> & { nowMs?: number },
): ShuffleStageResult {
  const { executor, state, watermarkMs, watermarkEnabled } = args;
  const { operator, fn } = executor.stateful!;
  const nowMs = args.nowMs ?? Date.now();
  const output = executor.output.map((c) => c.name);
  const stateFields = operator.stateSchema.value.map((v) => v.name);
  const result = emptyShuffleResult(0);
  const started = Date.now();
  // Each key's rows, and where each came from (its dead letter if the call fails).
  const groups = new Map<string, { rows: Row[]; from: Array<[SourceRecord, ShuffledRow]> }>();
  forEachAdmittedRow(args, result, (record, body) => {
    try {
      const group = groups.get(body.k) ?? { rows: [], from: [] };
      group.rows.push(executor.project(body.r));
      group.from.push([record, body]);
      groups.set(body.k, group);
    } catch (err) {
      result.failedRecords.push(failedRow(record, body, `evaluation failed: ${(err as Error).message}`));
    }
  });

  const call = (key: string, rows: Row[], hasTimedOut: boolean): string | undefined => {
    const stored = state.get(key) as unknown as StoredState | undefined;
    const handle = createGroupState({
      value: stored?.s,
      timeout: operator.timeout,
      hasTimedOut,
      watermarkMs: watermarkEnabled ? watermarkMs : 0,
      nowMs,
      stateFields,
    });
    const produced: Row[] = [];
    try {
      const out = fn(JSON.parse(key) as unknown[], rows, handle.state);
      for (const row of out ?? []) {
        if (produced.length >= MAX_OUTPUT_ROWS_PER_CALL)
          throw new Error(`returned more than ${MAX_OUTPUT_ROWS_PER_CALL} rows for one key`);
        if (row === null || typeof row !== 'object' || Array.isArray(row))
          throw new Error('returned a row that is not an object');
        const picked: Row = {};
        for (const name of output) picked[name] = (row as Row)[name] ?? null;
        produced.push(picked);
      }
    } catch (err) {
      return `${operator.export}() failed: ${(err as Error).message}`;
    }
    const { value, timeoutMs } = handle.result();
    if (value === undefined) state.remove(key);
    else
      state.put(
        key,
        (timeoutMs === undefined ? { s: value } : { s: value, t: timeoutMs }) as unknown as JsonValue,
      );
    result.rows.push(...produced);
    return undefined;
  };

  for (const [key, group] of groups) {
    const failure = call(key, group.rows, false);
    if (failure)
      for (const [record, body] of group.from) result.failedRecords.push(failedRow(record, body, failure));
  }
  result.updateTimeMs = Date.now() - started;

  const removalStarted = Date.now();
  if (operator.timeout !== 'none') {
    const due: string[] = [];
    for (const [key, value] of state.entries()) {
      if (groups.has(key)) continue;
      const t = (value as unknown as StoredState).t;
      if (t === undefined) continue;
      const expired =
        operator.timeout === 'eventTime'
          ? watermarkEnabled && watermarkMs > 0 && t < watermarkMs
          : t <= nowMs;
      if (expired) due.push(key);
    }
    for (const key of due) {
      const failure = call(key, [], true);
      if (failure) result.failedGroups.push({ row: { key: JSON.parse(key) as unknown }, reason: failure });
    }
  }
  result.removalTimeMs = Date.now() - removalStarted;
  return result;
}
