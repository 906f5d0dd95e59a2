// Aggregation buffers: one JSON value per aggregate call, so the engine can store them as is.
// count → number; sum/min/max → value or null (no input yet); avg → [sum, count].
import type { AggregateCall } from '../plan/expr';
import { compileExpr, type Evaluator } from './evaluate';
import type { Row } from '../types';

export type BufferSlot = number | string | boolean | null | [number, number];
export type AggregationBuffer = BufferSlot[];

export interface Aggregator {
  init(): AggregationBuffer;
  update(buffer: AggregationBuffer, row: Row): AggregationBuffer;
  finish(buffer: AggregationBuffer): unknown[];
  /** Combines two buffers of the same calls (session windows merge the buffers of two sessions). */
  merge(a: AggregationBuffer, b: AggregationBuffer): AggregationBuffer;
}

function mergeSlot(fn: AggregateCall['fn'], a: BufferSlot, b: BufferSlot): BufferSlot {
  if (fn === 'avg') {
    const [sa, ca] = Array.isArray(a) ? a : [0, 0];
    const [sb, cb] = Array.isArray(b) ? b : [0, 0];
    return [sa + sb, ca + cb];
  }
  if (fn === 'count') return ((a as number) ?? 0) + ((b as number) ?? 0);
  if (a === null) return b;
  if (b === null) return a;
  if (fn === 'sum') return (a as number) + (b as number);
  if (fn === 'min') return (b as number | string) < (a as number | string) ? b : a;
  return (b as number | string) > (a as number | string) ? b : a;
}

export function createAggregator(calls: readonly AggregateCall[]): Aggregator {
  const args: Array<Evaluator | undefined> = calls.map((call) =>
    call.arg ? compileExpr(call.arg) : undefined,
  );
  return {
    init: () => calls.map((call) => (call.fn === 'count' ? 0 : call.fn === 'avg' ? [0, 0] : null)),
    // Returns a new buffer: callers may keep the previous one (e.g. as the last committed state).
    update: (buffer, row) =>
      calls.map((call, i) => {
        const slot = buffer[i] ?? null;
        const arg = args[i];
        const value = arg ? arg(row) : 1;
        if (value === null || value === undefined) return slot;
        switch (call.fn) {
          case 'count':
            return (slot as number) + 1;
          case 'sum':
            return slot === null ? (value as number) : (slot as number) + (value as number);
          case 'min':
            return slot === null || (value as number | string) < (slot as number | string)
              ? (value as BufferSlot)
              : slot;
          case 'max':
            return slot === null || (value as number | string) > (slot as number | string)
              ? (value as BufferSlot)
              : slot;
          case 'avg': {
            const [sum, count] = Array.isArray(slot) ? slot : [0, 0];
            return [sum + (value as number), count + 1];
          }
        }
      }),
    merge: (a, b) => calls.map((call, i) => mergeSlot(call.fn, a[i] ?? null, b[i] ?? null)),
    finish: (buffer) =>
      calls.map((call, i) => {
        const slot = buffer[i] ?? null;
        if (call.fn === 'avg') return Array.isArray(slot) && slot[1] > 0 ? slot[0] / slot[1] : null;
        return slot;
      }),
  };
}
