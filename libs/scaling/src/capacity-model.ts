// Online model of how fast one instance processes: batch duration = overhead + rows / rate, fitted
// by least squares on the busiest instance's share of every aggregated batch. The aggregated
// duration is the slowest instance's, so the fitted rate already includes skew and jitter: it is
// the rate the query can rely on, not the average instance's.
import { busiestShare, effectiveInstances } from './partition-alignment';
import type { ProgressSample } from './types';
import { moments } from './window-stats';

export interface CapacityEstimate {
  /** Rows per second one instance processes while busy. */
  perInstanceRate: number;
  /** Fixed cost of a batch (s). */
  overheadSeconds: number;
  observations: number;
}

interface Point {
  x: number;
  y: number;
}

export class CapacityModel {
  private points: Point[] = [];
  private lastSeenMs = Number.NEGATIVE_INFINITY;
  private overhead = 0;

  constructor(
    private readonly partitions: number,
    private readonly maxPoints = 120,
    private readonly minPoints = 6,
  ) {}

  observe(samples: readonly ProgressSample[]): void {
    for (const s of samples) {
      if (s.timeMs <= this.lastSeenMs) continue;
      this.lastSeenMs = s.timeMs;
      if (s.numInputRows <= 0 || s.batchDurationMs <= 0) continue;
      const instances = Math.max(1, s.instances ?? 1);
      const x = (s.numInputRows * busiestShare(this.partitions, instances)) / this.partitions;
      this.points.push({ x, y: s.batchDurationMs / 1000 });
    }
    if (this.points.length > this.maxPoints) this.points = this.points.slice(-this.maxPoints);
  }

  estimate(): CapacityEstimate | undefined {
    if (this.points.length < this.minPoints) return undefined;
    const { n, mx, my, sxx, sxy } = moments(this.points);
    // The overhead is only identifiable when batch sizes vary (catch-up, rate changes); otherwise
    // keep the last identified value (initially 0, which underestimates the rate: the safe side).
    const spread = Math.sqrt(sxx / n) / Math.max(mx, 1e-9);
    if (spread >= 0.15 && sxx > 0) {
      const slope = sxy / sxx;
      const intercept = my - slope * mx;
      if (slope > 0 && intercept >= 0) this.overhead = intercept;
    }
    const perRow = (my - this.overhead) / Math.max(mx, 1e-9);
    if (!(perRow > 0)) return undefined;
    return { perInstanceRate: 1 / perRow, overheadSeconds: this.overhead, observations: n };
  }
}

/**
 * Query-wide rate (records/s) that `instances` sustain when every batch takes `busyFraction` of
 * the trigger interval: (busyFraction * T - overhead) rows-time per interval, paced by the busiest
 * instance.
 */
export function sustainableRate(
  estimate: CapacityEstimate,
  instances: number,
  partitions: number,
  triggerSeconds: number,
  busyFraction: number,
): number {
  const perInstance =
    (estimate.perInstanceRate * Math.max(0, busyFraction * triggerSeconds - estimate.overheadSeconds)) /
    triggerSeconds;
  return perInstance * effectiveInstances(partitions, instances);
}
