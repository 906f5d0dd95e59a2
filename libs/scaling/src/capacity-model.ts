// Online model of how fast one instance processes: batch duration = overhead + rows / rate, fitted
// by least squares on one of two rows bases (see estimate). On the busiest instance's even share of
// every aggregated batch: the aggregated duration is the slowest instance's, so the fitted rate
// includes skew and jitter, the rate the query can rely on, not the average instance's. On the rows
// the slowest instance reported itself: the engine's own rate, for a caller that prices the skew
// from the partitions' rates (partition-load.ts).
//
// That rate is not the same at every instance count: coordination makes instances slower as the
// group grows, and a hot partition weighs more on an instance the fewer partitions it shares with
// (so the busiest instance's real share grows faster than the even share). Loaded batches are
// therefore also kept per instance count, and once two counts have been seen under load the rate
// at a count is what was observed there, or for an unseen count the nearest observed count's rate
// scaled by a power law n^-e fitted across the observed counts (e >= 0: never assume an instance
// gets faster in a bigger group).
import { busiestShare, effectiveInstances } from './partition-alignment';
import type { ProgressSample } from './types';
import { moments } from './window-stats';

export interface CapacityEstimate {
  /** Rows per second one instance processes while busy (all instance counts together). */
  perInstanceRate: number;
  /** Fixed cost of a batch (s). */
  overheadSeconds: number;
  observations: number;
  /** Fitted fall of the per-instance rate with the instance count (rate ∝ n^-e); 0 when unknown. */
  scalingExponent?: number;
  /** Per-instance rate at `n` instances; `perInstanceRate` for every n when absent. */
  perInstanceRateAt?: (instances: number) => number;
  /** Instance counts with enough loaded steady batches of their own; the rest are extrapolated. */
  measuredCounts?: readonly number[];
}

interface Point {
  /** The busiest instance's even share of the batch's rows: the rate fitted on it includes skew. */
  x: number;
  y: number;
  /** Rows the slowest instance read itself, when reported; what its fixed cost is fitted on. */
  own: number;
}

/** Loaded batches kept per instance count (the last ones; older skew may have moved on). */
const POINTS_PER_COUNT = 30;
/** A batch counts as loaded when its busy time above the overhead is this share of the trigger. */
const LOADED_SHARE = 0.25;
/** Batches after a change of the instance count that are not kept per count. */
const SETTLE_BATCHES = 3;
/** Batches longer than this share of the trigger are catch-up batches, not kept per count. */
const STEADY_BATCH_SHARE = 1.1;
/**
 * An interval with a process's first batches (this many with rows, from its start) is not fitted:
 * it runs cold. Live under a 0.1-CPU quota a new engine's first 2–4 batches ran 2–6× the warm
 * line of their rows (1,195 ms for 671 rows against 165 ms; 4,084 ms for 5,000 against 416 ms),
 * the later ones on it (BENCHMARKS.md, 2026-12-06). With them in its window the model fitted a
 * fixed cost of 0.47 s (the calibration's: 0.13 s) and read a 0.7-utilised instance as 0.88,
 * which scaled it out. Flink's
 * autoscaler likewise collects no metrics in its stabilisation interval after a job (re)starts
 * (flink-autoscaler ScalingMetricCollector, `job.autoscaler.stabilization.interval`).
 */
export const COLD_BATCHES = 3;
/** Largest fitted exponent: beyond it the fit is noise (a rate halving with every doubling). */
const MAX_EXPONENT = 1;

export class CapacityModel {
  private points: Point[] = [];
  private readonly byCount = new Map<number, { x: number; own: number; y: number; trigger: number }[]>();
  private lastSeenMs = Number.NEGATIVE_INFINITY;
  /** Last identified fixed cost per rows basis (see estimate). */
  private readonly overhead = { even: 0, own: 0 };
  private lastInstances = 0;
  private sinceChange = 0;

  constructor(
    private readonly partitions: number,
    private readonly maxPoints = 120,
    private readonly minPoints = 6,
  ) {}

  /**
   * `catchingUp`: the caller knows these batches drain a backlog its own rescale's rebalance
   * pauses left. They are marked seen but not fitted: each instance then reads what its batch bound
   * allows from its own backlog, so every instance is busy, where in steady state the busiest
   * instance's partition share paces the group; mixed into the fit they look like a large fixed
   * overhead and a small per-row cost, and the model reads the group as too small.
   */
  observe(samples: readonly ProgressSample[], options: { catchingUp?: boolean } = {}): void {
    for (const s of samples) {
      if (s.timeMs <= this.lastSeenMs) continue;
      this.lastSeenMs = s.timeMs;
      if (options.catchingUp) continue;
      if (s.numInputRows <= 0 || s.batchDurationMs <= 0) continue;
      if (s.minProcessRowBatches !== undefined && s.minProcessRowBatches <= COLD_BATCHES) continue;
      const instances = Math.max(1, s.instances ?? 1);
      const x = (s.numInputRows * busiestShare(this.partitions, instances)) / this.partitions;
      const own = s.slowestBatchRows !== undefined && s.slowestBatchRows > 0 ? s.slowestBatchRows : x;
      this.points.push({ x, y: s.batchDurationMs / 1000, own });
      // Right after a membership change batches mix the old and new assignment, and catch-up
      // batches longer than the trigger carry what the size does to the cost: neither says what
      // this count sustains in steady state.
      this.sinceChange = instances === this.lastInstances ? this.sinceChange + 1 : 0;
      this.lastInstances = instances;
      const y = s.batchDurationMs / 1000;
      const trigger = s.triggerMs / 1000;
      if (this.sinceChange >= SETTLE_BATCHES && y <= STEADY_BATCH_SHARE * trigger) {
        const kept = this.byCount.get(instances) ?? [];
        kept.push({ x, own, y, trigger });
        if (kept.length > POINTS_PER_COUNT) kept.shift();
        this.byCount.set(instances, kept);
      }
    }
    if (this.points.length > this.maxPoints) this.points = this.points.slice(-this.maxPoints);
  }

  /**
   * `rowsBasis`: 'even' (default) fits the rate on the busiest instance's even share, so skew is
   * in the rate; 'own' on the rows the slowest instance reported itself, the engine's own rate,
   * for a caller that prices the skew itself (sustainableRate's `busiestShare`).
   */
  estimate(rowsBasis: 'even' | 'own' = 'even'): CapacityEstimate | undefined {
    if (this.points.length < this.minPoints) return undefined;
    const basis = (p: { x: number; own: number }) => (rowsBasis === 'own' ? p.own : p.x);
    const { n, mx, my } = moments(this.points.map((p) => ({ x: basis(p), y: p.y })));
    const overhead = this.fitOverhead(rowsBasis, basis);
    const perRow = (my - overhead) / Math.max(mx, 1e-9);
    if (!(perRow > 0)) return undefined;
    const estimate: CapacityEstimate = {
      perInstanceRate: 1 / perRow,
      overheadSeconds: overhead,
      observations: n,
    };
    return { ...estimate, ...this.byInstanceCount(basis, overhead) };
  }

  /**
   * The fixed cost of a batch: the intercept of its duration against the rows basis the rate is
   * fitted on, so the two describe the same line. It is only identifiable when batch sizes vary
   * (catch-up, rate changes); otherwise the last identified value is kept (initially 0, which
   * underestimates the rate: the safe side). On the even share it is wrong whenever the busiest
   * instance's real share does not follow the even share: with hot partitions, going 16 -> 24
   * instances on 48 partitions cuts the even share by a third while the instance holding two hot
   * partitions reads as much as before, so the same durations over smaller shares read as a fixed
   * cost of ~6 s (engine: 0.5 s; slow-ramp, seeds 4 and 7). On the rows the slowest instance
   * reported itself it is the engine's.
   */
  private fitOverhead(rowsBasis: 'even' | 'own', basis: (p: Point) => number): number {
    const points = this.points.map((p) => ({ x: basis(p), y: p.y }));
    const { n, mx, my, sxx, sxy } = moments(points);
    const spread = Math.sqrt(sxx / n) / Math.max(mx, 1e-9);
    if (spread >= 0.15 && sxx > 0) {
      const slope = sxy / sxx;
      // No batch costs less than the fixed cost, so the shortest batch seen bounds it. A few
      // noisy batches (a start's slow first ones) can put the intercept at or above the mean
      // duration, which leaves almost nothing per row: live, that read as 672,779 rows/s an
      // instance (BENCHMARKS.md, a fitted batch cost beside the calibrated simulation).
      const intercept = Math.min(my - slope * mx, Math.min(...points.map((p) => p.y)));
      if (slope > 0 && intercept >= 0) this.overhead[rowsBasis] = intercept;
    }
    return this.overhead[rowsBasis];
  }

  /** Per-count rates of loaded batches and the power law across them (needs two counts). */
  private byInstanceCount(
    basis: (p: { x: number; own: number }) => number,
    overhead: number,
  ): Pick<CapacityEstimate, 'scalingExponent' | 'perInstanceRateAt' | 'measuredCounts'> {
    const observed: { n: number; rate: number; weight: number }[] = [];
    for (const [count, kept] of this.byCount) {
      const loaded = kept.filter((p) => p.y - overhead >= LOADED_SHARE * p.trigger);
      if (loaded.length < this.minPoints) continue;
      const rows = loaded.reduce((a, p) => a + basis(p), 0);
      const busy = loaded.reduce((a, p) => a + (p.y - overhead), 0);
      observed.push({ n: count, rate: rows / busy, weight: loaded.length });
    }
    const measuredCounts = observed.map((o) => o.n);
    if (observed.length < 2) return { measuredCounts };
    const points = observed.map((o) => ({ x: Math.log(o.n), y: Math.log(o.rate), w: o.weight }));
    const w = points.reduce((a, p) => a + p.w, 0);
    const mx = points.reduce((a, p) => a + p.w * p.x, 0) / w;
    const my = points.reduce((a, p) => a + p.w * p.y, 0) / w;
    const sxx = points.reduce((a, p) => a + p.w * (p.x - mx) ** 2, 0);
    const sxy = points.reduce((a, p) => a + p.w * (p.x - mx) * (p.y - my), 0);
    const exponent = sxx > 0 ? Math.min(MAX_EXPONENT, Math.max(0, -sxy / sxx)) : 0;
    const perInstanceRateAt = (instances: number): number => {
      // Anchor at the observed count nearest in log scale; scale by the fitted exponent from there.
      let anchor = observed[0] as (typeof observed)[number];
      for (const o of observed)
        if (Math.abs(Math.log(o.n / instances)) < Math.abs(Math.log(anchor.n / instances))) anchor = o;
      return anchor.rate * (instances / anchor.n) ** -exponent;
    };
    return { scalingExponent: exponent, perInstanceRateAt, measuredCounts };
  }
}

/**
 * Query-wide rate (records/s) that `instances` sustain when every batch takes `busyFraction` of
 * the trigger interval: (busyFraction * T - overhead) rows-time per interval, paced by the busiest
 * instance. Its share of the input is the even share unless `busiestShare` says otherwise (then
 * the estimate's rate must be the engine's own, `estimate('own')`).
 */
export function sustainableRate(
  estimate: CapacityEstimate,
  instances: number,
  partitions: number,
  triggerSeconds: number,
  busyFraction: number,
  busiestShare?: (instances: number) => number,
): number {
  const rate = estimate.perInstanceRateAt?.(Math.max(1, instances)) ?? estimate.perInstanceRate;
  const perInstance =
    (rate * Math.max(0, busyFraction * triggerSeconds - estimate.overheadSeconds)) / triggerSeconds;
  if (busiestShare && instances > 0) return perInstance / busiestShare(instances);
  return perInstance * effectiveInstances(partitions, instances);
}
