// The live engine's batch cost as a line: duration = fixed overhead + rows ÷ per-record rate.
//
// Why a line and not one capacity figure: the calibration's sustained drain (catch-up batches of
// several seconds) and its trigger-sized rounds (one trigger's input a batch) gave the same engine
// capacities 1.3–3.6× apart, because a batch pays a fixed cost (trigger, planning, the Kafka
// transaction, checkpoint files) that large batches spread over many records and small ones do
// not. The simulator's engine has exactly that shape (`batchOverheadSeconds` + rows ÷ capacity,
// libs/scaling/src/simulator/engine-group.ts), so a simulation fed the fitted line amortises the
// way the live engine does, where a single capacity is right at one batch size only.
import { linearFit, type Profile } from '@sluice/scaling';

export interface ObservedBatch {
  rows: number;
  durationMs: number;
}

export interface BatchCostFit {
  /** Live seconds a batch costs whatever its size (the intercept). */
  overheadSeconds: number;
  /** Live records per second beyond the overhead (1 ÷ the slope). */
  recordsPerSecond: number;
  batches: number;
  /** Smallest and largest batch (rows) the line was fitted on. */
  minRows: number;
  maxRows: number;
}

/** The fit needs batches this many times apart in size: otherwise the intercept is noise. */
export const MIN_SIZE_SPREAD = 3;
export const MIN_BATCHES = 4;

/**
 * Least squares of duration on rows. Null when the batches cannot separate the two terms (too
 * few, sizes too alike, a slope that is not positive); a negative intercept (noise on a cost that
 * is close to 0) is taken as 0 and the line refitted through the origin.
 */
export function fitBatchCost(batches: readonly ObservedBatch[]): BatchCostFit | null {
  const usable = batches.filter(
    (b) => Number.isFinite(b.rows) && Number.isFinite(b.durationMs) && b.rows > 0 && b.durationMs > 0,
  );
  if (usable.length < MIN_BATCHES) return null;
  const rows = usable.map((b) => b.rows);
  const minRows = Math.min(...rows);
  const maxRows = Math.max(...rows);
  if (maxRows < MIN_SIZE_SPREAD * minRows) return null;
  const points = usable.map((b) => ({ x: b.rows, y: b.durationMs / 1000 }));
  const { slope, intercept } = linearFit(points);
  if (!(slope > 0)) return null;
  if (intercept >= 0)
    return {
      overheadSeconds: intercept,
      recordsPerSecond: 1 / slope,
      batches: usable.length,
      minRows,
      maxRows,
    };
  const throughOrigin = points.reduce((s, p) => s + p.x * p.y, 0) / points.reduce((s, p) => s + p.x * p.x, 0);
  return {
    overheadSeconds: 0,
    recordsPerSecond: 1 / throughOrigin,
    batches: usable.length,
    minRows,
    maxRows,
  };
}

/**
 * The profile whose simulated instance costs what the live one does. The live run plays profile
 * rates × `rateScale` at profile time ÷ `speedup`, so a live batch of r records in d seconds is a
 * profile batch of r × speedup ÷ rateScale records in d × speedup seconds: the overhead scales by
 * the speedup, the per-record rate by speedup ÷ (rateScale × speedup) = 1 ÷ rateScale.
 */
export function profileWithBatchCost(
  profile: Profile,
  fit: BatchCostFit,
  live: { rateScale: number; speedup: number },
): Profile {
  if (!(live.rateScale > 0) || !(live.speedup > 0)) throw new Error('rateScale and speedup must be positive');
  return {
    ...profile,
    instance: {
      ...profile.instance,
      capacity: fit.recordsPerSecond / live.rateScale,
      batchOverheadSeconds: fit.overheadSeconds * live.speedup,
    },
  };
}

/**
 * The fitted line with a fixed cost that makes a batch of one trigger's worth at the trigger-sized
 * capacity fill the trigger: overhead = trigger × (1 − capacity ÷ fitted rate), never below the
 * fitted overhead. The per-record rate stays the fitted one.
 *
 * Why: the fitted line prices what a batch's own wall time costs, but under a CPU quota the round
 * also spends quota off the batch (the Kafka client's fetches, heartbeats, reports: BENCHMARKS.md,
 * "The quota is spent off the batch too"), which the live scaling loop charges to the round
 * (`roundCpuMs` ÷ cpuLimit, aggregate-progress.ts) and the trigger-sized rounds of the calibration
 * include. With the fitted line alone a simulated engine did 1.74–1.96× the trigger-sized
 * capacity, read ~38 % busy where the live loop read ~70 %, and its policy met a step with 1 → 2
 * where the live one went 1 → 4 (runs K–Q, 2026-12-07). The simulator charges that cost inside
 * the batch, so it is read as busy, as the live loop reads it.
 */
export function triggerRoundsLine(
  fit: BatchCostFit,
  triggerSizedCapacity: number,
  triggerSeconds: number,
): BatchCostFit {
  if (!(triggerSizedCapacity > 0) || !(triggerSeconds > 0))
    throw new Error('triggerSizedCapacity and triggerSeconds must be positive');
  const overhead = triggerSeconds * (1 - triggerSizedCapacity / fit.recordsPerSecond);
  return { ...fit, overheadSeconds: Math.max(fit.overheadSeconds, overhead) };
}
