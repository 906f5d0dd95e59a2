// Stage 2 of stateful plans, one task per shuffle partition: fold the keyed rows into the state
// store, drop rows older than the watermark, evict expired state and emit by output mode
// (Spark's rules: append emits a group once, when the watermark passes its window end; update
// emits groups changed in this batch; complete emits every group every batch and never evicts).
import type { QueryExecutor, Row } from '@sluice/query-plan';
import type { JsonValue } from '../state/state-store';
import { runSessionStage } from './session-stage';
import { runStatefulStage } from './stateful-stage';
import { forEachAdmittedRow } from './admitted-rows';
import { failedRow } from './shuffle-codec';
import { emptyShuffleResult, type ShuffleStageInput, type ShuffleStageResult } from './shuffle-result';

interface AggregateEntry {
  v: Row;
  b: unknown;
  e?: number;
}

/**
 * Stored form of an aggregate group: `[buffer]` or `[buffer, expiresAtMs]`. The group values are
 * recovered from the state key (executor.groupValues), so they are not stored twice.
 */
type StoredAggregate = [unknown] | [unknown, number];

function toStored(entry: AggregateEntry): JsonValue {
  return (entry.e === undefined ? [entry.b] : [entry.b, entry.e]) as unknown as JsonValue;
}

/** The expiry of a stored group without rebuilding its values (eviction scans every group). */
function expiryOf(stored: JsonValue): number | undefined {
  const e = Array.isArray(stored) ? stored[1] : (stored as unknown as AggregateEntry).e;
  return typeof e === 'number' ? e : undefined;
}

function fromStored(executor: QueryExecutor, key: string, stored: JsonValue): AggregateEntry {
  // Checkpoints written before the compact form hold {v, b, e} objects.
  if (!Array.isArray(stored)) return stored as unknown as AggregateEntry;
  const [b, e] = stored as unknown as StoredAggregate;
  return { v: executor.groupValues(key), b, ...(e !== undefined ? { e } : {}) };
}

interface DedupeEntry {
  /** Event time of the key's first row (plain deduplication evicts by it). */
  t: number | null;
  /** dropDuplicatesWithinWatermark: the key expires when the watermark passes this. */
  x?: number;
}

export type { ShuffleStageResult } from './shuffle-result';

export function runShuffleStage(args: ShuffleStageInput): ShuffleStageResult {
  const { executor, state, watermarkMs, watermarkEnabled } = args;
  if (executor.kind === 'aggregate' && executor.session) return runSessionStage(args);
  if (executor.kind === 'stateful') return runStatefulStage(args);
  const result = emptyShuffleResult(0);
  // Captured before eviction: a group updated and evicted in the same batch is still emitted.
  const updated = new Map<string, AggregateEntry>();
  const started = Date.now();
  forEachAdmittedRow(args, result, (record, body, t) => {
    // State changes only after the row was evaluated, so a row that fails leaves no trace but
    // its dead letter.
    try {
      if (executor.kind === 'dedupe') {
        if (state.has(body.k)) return;
        const row = executor.project(body.r);
        const expiresAt = executor.dedupeExpiresAtMs(body.r);
        const entry: DedupeEntry =
          expiresAt === undefined ? { t: t ?? null } : { t: t ?? null, x: expiresAt };
        state.put(body.k, entry as unknown as JsonValue);
        result.rows.push(row);
        return;
      }
      const stored = state.get(body.k);
      const entry: AggregateEntry =
        stored !== undefined
          ? fromStored(executor, body.k, stored)
          : {
              // Batch-form rows leave the values to the key (ShuffledRow.v).
              v: body.v ?? executor.groupValues(body.k),
              b: executor.initBuffer(),
              ...(body.e !== undefined ? { e: body.e } : {}),
            };
      entry.b = executor.update(entry.b, body.r);
      state.put(body.k, toStored(entry));
      updated.set(body.k, entry);
    } catch (err) {
      result.failedRecords.push(failedRow(record, body, `aggregation failed: ${(err as Error).message}`));
    }
  });
  result.updateTimeMs = Date.now() - started;

  const removalStarted = Date.now();
  let evicted: Array<[string, JsonValue]> = [];
  if (watermarkEnabled && watermarkMs > 0 && args.outputMode !== 'complete') {
    evicted =
      executor.kind === 'dedupe'
        ? state.removeWhere((_k, v) => {
            const { t, x } = v as unknown as DedupeEntry;
            if (x !== undefined) return x < watermarkMs;
            return t !== null && t < watermarkMs;
          })
        : state.removeWhere((_k, v) => {
            const e = expiryOf(v);
            return e !== undefined && e <= watermarkMs;
          });
  }
  result.removalTimeMs = Date.now() - removalStarted;
  if (executor.kind === 'dedupe') return result;

  const emit = (entry: AggregateEntry): void => {
    try {
      result.rows.push(executor.finalize(entry.v, entry.b));
    } catch (err) {
      result.failedGroups.push({
        row: entry.v,
        reason: `computing the output row failed: ${(err as Error).message}`,
      });
    }
  };
  if (args.outputMode === 'append') {
    for (const [k, v] of evicted) emit(fromStored(executor, k, v));
  } else if (args.outputMode === 'update') {
    for (const entry of updated.values()) emit(entry);
  } else {
    for (const [k, v] of state.entries()) emit(fromStored(executor, k, v));
  }
  return result;
}
