// Folds per-instance progress (one event per engine batch, as engines report it) into the
// aggregated samples policies read: one per trigger interval, rows summed, slowest batch kept.
// The live control loop and the simulator produce the same shape this way.
import type { ProgressSample } from './types';

export interface InstanceBatch {
  /** Batch start (Spark's progress `timestamp`), ms. */
  startMs: number;
  instance: string;
  numInputRows: number;
  batchDurationMs: number;
  /**
   * The engine's own work outside its trigger executions (its progress report, ms; Sluice's
   * `outsideTriggerMs`), when reported. Added to the batch: a round of the engine costs it. Left
   * out, it is capacity the policies count on and do not have (~0.1 s of each 1 s trigger at 0.1
   * CPU; the live capacity estimate ran 1.32x the calibrated one, BENCHMARKS.md 2026-12-04).
   */
  outsideMs?: number;
  /**
   * The instance's CPU time and wall time over the round this batch ends (since its previous
   * trigger's execution ended; Sluice's `roundCpuMs` and `roundWallMs`), when reported.
   */
  roundCpuMs?: number;
  roundWallMs?: number;
  /** Reports with rows the instance's process has published, this one included (1: its first). */
  processRowBatches?: number;
}

/**
 * What one round of an instance costs: its batch plus the work it did outside the trigger; under
 * a CPU limit, at least the time its round's CPU keeps the quota busy (CPU ÷ limit, at most the
 * round's wall time). Work off the trigger's path (the Kafka client fetching and decoding, the
 * reports) spends the quota too: at 0.1 CPU an engine whose batches took 58–90 % of the wall time
 * used 80–95 % of its quota, and the live loop, reading wall time alone, held 2 instances at a
 * demand they could not carry (BENCHMARKS.md, 2026-12-06).
 */
export function roundCost(cpuLimitCores: number | undefined): (b: InstanceBatch) => number {
  return (b) => {
    const wall = b.batchDurationMs + (b.outsideMs ?? 0);
    if (!(cpuLimitCores !== undefined && cpuLimitCores > 0)) return wall;
    if (b.roundCpuMs === undefined || b.roundWallMs === undefined) return wall;
    return Math.max(wall, Math.min(b.roundWallMs, b.roundCpuMs / cpuLimitCores));
  };
}

/**
 * `cpuLimitCores`: the instances' CPU limit, when the query has one; their rounds then cost at
 * least what their CPU takes of it.
 */
export function aggregateProgress(
  batches: readonly InstanceBatch[],
  triggerMs: number,
  cpuLimitCores?: number,
): ProgressSample[] {
  if (!(triggerMs > 0)) throw new RangeError(`triggerMs must be > 0, got ${triggerMs}`);
  const roundMs = roundCost(cpuLimitCores);
  const buckets = new Map<number, InstanceBatch[]>();
  for (const b of batches) {
    const key = Math.floor(b.startMs / triggerMs);
    const list = buckets.get(key) ?? [];
    list.push(b);
    buckets.set(key, list);
  }
  const samples: ProgressSample[] = [];
  for (const list of buckets.values()) {
    const withRows = list.filter((b) => b.numInputRows > 0 && b.batchDurationMs > 0);
    if (withRows.length === 0) {
      // An idle interval is still a completed batch (as Spark Streaming's empty batches are):
      // without it a query whose input stopped would never look under-used and never scale in.
      samples.push({
        timeMs: Math.max(...list.map((b) => b.startMs + b.batchDurationMs)),
        inputRowsPerSecond: 0,
        processedRowsPerSecond: 0,
        batchDurationMs: Math.max(...list.map(roundMs)),
        numInputRows: 0,
        triggerMs,
        instances: new Set(list.map((b) => b.instance)).size,
        busyMs: list.reduce((n, b) => n + roundMs(b), 0),
      });
      continue;
    }
    const rows = withRows.reduce((n, b) => n + b.numInputRows, 0);
    const busyMs = withRows.reduce((n, b) => n + roundMs(b), 0);
    const slowest = withRows.reduce((a, b) => (roundMs(b) > roundMs(a) ? b : a));
    const ordinals = withRows.flatMap((b) =>
      b.processRowBatches === undefined ? [] : [b.processRowBatches],
    );
    samples.push({
      timeMs: Math.max(...withRows.map((b) => b.startMs + b.batchDurationMs)),
      inputRowsPerSecond: (rows * 1000) / triggerMs,
      processedRowsPerSecond: withRows.reduce((n, b) => n + (b.numInputRows * 1000) / roundMs(b), 0),
      batchDurationMs: roundMs(slowest),
      numInputRows: rows,
      slowestBatchRows: slowest.numInputRows,
      triggerMs,
      instances: new Set(list.map((b) => b.instance)).size,
      busyMs,
      ...(ordinals.length > 0 && {
        minProcessRowBatches: Math.min(...ordinals),
        firstBatches: ordinals.filter((n) => n === 1).length,
      }),
    });
  }
  return samples.sort((a, b) => a.timeMs - b.timeMs);
}
