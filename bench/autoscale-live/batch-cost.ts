// The live engine's batch cost as a line: duration = fixed overhead + rows ÷ per-record rate.
//
// Why a line and not one capacity figure: the calibration's sustained drain (catch-up batches of
// several seconds) and its trigger-sized rounds (one trigger's input a batch) gave the same engine
// capacities 1.3–3.6× apart, because a batch pays a fixed cost (trigger, planning, the Kafka
// transaction, checkpoint files) that large batches spread over many records and small ones do
// not. The simulator's engine has exactly that shape (`batchOverheadSeconds` + rows ÷ capacity,
// libs/scaling/src/simulator/engine-group.ts), so a simulation fed the fitted line amortises the
// way the live engine does, where a single capacity is right at one batch size only.
import { COLD_BATCHES, linearFit, roundCost, type Profile } from '@sluice/scaling';
import type { LiveBatch } from './startup';

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
 * The batches as rounds the live scaling loop charges (aggregate-progress.ts `roundCost`): a batch
 * plus the engine's work outside the trigger, and under a CPU limit at least what the round's CPU
 * takes of the quota. Batches without rows and a process's first COLD_BATCHES with rows are left
 * out, as the loop's capacity model leaves them out (capacity-model.ts).
 *
 * Why: the line fitted on the batches' own wall time prices what a batch costs, but under a CPU
 * quota a round also spends quota off the batch (the Kafka client's fetches, heartbeats, reports),
 * and the loop reads that as busy. With the wall-time line a simulated engine read ~38 % busy
 * where the live loop read ~70 % (runs K–Q, 2026-12-07). A line fitted on the rounds of live run
 * R, as charged (0.19–0.29 s + rows ÷ 10,000–15,200/s), put the simulated ramp's scale-out 60 s
 * from live's, with 3,610 instance·s against 3,530; the wall-time line's prediction scaled out
 * 110 s early. The simulator has one cost per batch, so this line is both what its loop reads and
 * what its engine spends: at full busy it carries (1 − overhead) × rate a second.
 */
export function chargedRounds(batches: readonly LiveBatch[], cpuLimitCores: number): ObservedBatch[] {
  const cost = roundCost(cpuLimitCores);
  return batches
    .filter((b) => b.rows > 0 && !(b.processRowBatches != null && b.processRowBatches <= COLD_BATCHES))
    .map((b) => ({
      rows: b.rows,
      durationMs: cost({
        startMs: b.liveMs,
        instance: b.instance,
        numInputRows: b.rows,
        batchDurationMs: b.durationMs,
        ...(b.outsideMs != null && { outsideMs: b.outsideMs }),
        ...(b.roundCpuMs != null && { roundCpuMs: b.roundCpuMs }),
        ...(b.roundWallMs != null && { roundWallMs: b.roundWallMs }),
      }),
    }));
}
