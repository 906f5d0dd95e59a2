// The state handle a stateful function gets for one key, after Spark's GroupState:
// get/exists/update/remove, timeouts (setTimeoutTimestamp in eventTime mode, setTimeoutDuration
// in processingTime mode, hasTimedOut when the call is the key's timeout) and the watermark.
// Misuse throws, as Spark's does (the key's rows become dead letters and its state is untouched).
import type { Row } from '../types';

export interface GroupState<S = Record<string, unknown>> {
  exists(): boolean;
  /** The state, or undefined when there is none. */
  get(): S | undefined;
  update(value: S): void;
  remove(): void;
  /** eventTime timeout: the key times out when the watermark passes `ms` (epoch ms). */
  setTimeoutTimestamp(ms: number): void;
  /** processingTime timeout: the key times out `ms` after now if no row arrives for it. */
  setTimeoutDuration(ms: number): void;
  readonly hasTimedOut: boolean;
  /** The watermark in force for this batch (0 = none yet). */
  getCurrentWatermarkMs(): number;
}

/** `(key, rows, state) => output rows`: key values in key order, rows of the batch for the key. */
export type StatefulFunction = (
  key: unknown[],
  rows: Row[],
  state: GroupState,
) => Row[] | Iterable<Row> | undefined | void;

/** What a call leaves behind: the new state (undefined = removed) and its timeout. */
export interface GroupStateResult {
  value: Record<string, unknown> | undefined;
  timeoutMs: number | undefined;
}

export function createGroupState(args: {
  value: Record<string, unknown> | undefined;
  timeout: 'none' | 'eventTime' | 'processingTime';
  hasTimedOut: boolean;
  watermarkMs: number;
  nowMs: number;
  stateFields: readonly string[];
}): { state: GroupState; result: () => GroupStateResult } {
  let value = args.value;
  // As Spark: a timeout holds for one call; the function sets it again to keep it.
  let timeoutMs: number | undefined;
  const state: GroupState = {
    exists: () => value !== undefined,
    get: () => value,
    update: (next) => {
      if (next === null || typeof next !== 'object' || Array.isArray(next))
        throw new Error('state.update() needs an object');
      const unknown = Object.keys(next).filter((k) => !args.stateFields.includes(k));
      if (unknown.length > 0)
        throw new Error(
          `state.update(): ${unknown.join(', ')} not in stateSchema (${args.stateFields.join(', ')})`,
        );
      value = JSON.parse(JSON.stringify(next)) as Record<string, unknown>;
    },
    remove: () => {
      value = undefined;
      timeoutMs = undefined;
    },
    setTimeoutTimestamp: (ms) => {
      if (args.timeout !== 'eventTime')
        throw new Error('setTimeoutTimestamp() needs timeout: eventTime in the spec');
      if (!Number.isFinite(ms)) throw new Error('setTimeoutTimestamp() needs epoch milliseconds');
      if (args.watermarkMs > 0 && ms < args.watermarkMs)
        throw new Error(`setTimeoutTimestamp(${ms}) is before the watermark ${args.watermarkMs}`);
      timeoutMs = ms;
    },
    setTimeoutDuration: (ms) => {
      if (args.timeout !== 'processingTime')
        throw new Error('setTimeoutDuration() needs timeout: processingTime in the spec');
      if (!Number.isFinite(ms) || ms <= 0) throw new Error('setTimeoutDuration() needs a positive duration');
      timeoutMs = args.nowMs + ms;
    },
    hasTimedOut: args.hasTimedOut,
    getCurrentWatermarkMs: () => args.watermarkMs,
  };
  return { state, result: () => ({ value, timeoutMs: value === undefined ? undefined : timeoutMs }) };
}
