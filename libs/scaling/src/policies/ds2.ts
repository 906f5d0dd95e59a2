// The Flink Kubernetes operator's autoscaler (DS2), reduced to one source-bound vertex with the
// operator's defaults. Target capacity = lag / catch-up + input * restart / catch-up + input /
// target utilisation; the new parallelism is ceil(current * target / true processing rate),
// aligned to divide the partitions evenly. It acts only when the processing rate leaves the
// utilisation band, only with a full metric window collected after the post-rescale stabilisation,
// scales down at most by the max factor, and only after a down recommendation persisted for the
// scale-down interval (then to the highest recommendation of that interval).
import type { ScalingDecision, ScalingInput, ScalingPolicy } from '../types';
import { produceRate, trueProcessingRate } from '../window-stats';
import { assertValidLimits, upperBound } from './limits';

export interface Ds2Options {
  targetUtilization?: number;
  utilizationBoundary?: number;
  metricsWindowSeconds?: number;
  stabilizationSeconds?: number;
  catchUpSeconds?: number;
  restartSeconds?: number;
  backlogLagThresholdSeconds?: number;
  scaleDownIntervalSeconds?: number;
  maxScaleDownFactor?: number;
  maxScaleUpFactor?: number;
}

interface DelayedScaleDown {
  firstTriggerMs: number;
  recommendations: { timeMs: number; parallelism: number }[];
}

export class Ds2Policy implements ScalingPolicy {
  readonly name = 'ds2';
  private readonly o: Required<Ds2Options>;
  /** Last rescale (or the first tick, which Flink treats like a job start). */
  private lastRescaleMs: number | undefined;
  private delayed: DelayedScaleDown | undefined;

  constructor(options: Ds2Options = {}) {
    this.o = {
      targetUtilization: 0.7,
      utilizationBoundary: 0.3,
      metricsWindowSeconds: 15 * 60,
      stabilizationSeconds: 5 * 60,
      catchUpSeconds: 30 * 60,
      restartSeconds: 5 * 60,
      backlogLagThresholdSeconds: 5 * 60,
      scaleDownIntervalSeconds: 60 * 60,
      maxScaleDownFactor: 0.6,
      maxScaleUpFactor: 100000,
      ...options,
    };
  }

  decide(input: ScalingInput): ScalingDecision {
    assertValidLimits(input.limits);
    const o = this.o;
    const current = input.currentInstances;
    const now = input.nowMs;
    if (this.lastRescaleMs === undefined) this.lastRescaleMs = now;
    const stableMs = this.lastRescaleMs + o.stabilizationSeconds * 1000;
    const fullMs = stableMs + o.metricsWindowSeconds * 1000;
    if (now < fullMs) {
      return {
        instances: current,
        reason: now < stableMs ? 'stabilizing' : 'collecting metric window',
        inputs: {},
      };
    }
    const windowStart = Math.max(stableMs, now - o.metricsWindowSeconds * 1000);
    const samples = input.samples.filter((s) => s.timeMs > windowStart && s.timeMs <= now);
    const tpr = trueProcessingRate(samples);
    const inputRate = produceRate(input.samples, input.lag, now, now - windowStart);
    const lag = input.lag[input.lag.length - 1];
    if (tpr === undefined || inputRate === undefined || !lag) {
      return { instances: current, reason: 'metrics unavailable', inputs: {} };
    }

    const catchUpRate = lag.records / o.catchUpSeconds;
    const capacityAt = (utilization: number, withRestart: boolean) => {
      if (utilization <= 0) return Number.POSITIVE_INFINITY;
      const restartRate = withRestart ? (inputRate * o.restartSeconds) / o.catchUpSeconds : 0;
      return Math.round(catchUpRate + restartRate + inputRate / Math.min(1, utilization));
    };
    const targetCapacity = capacityAt(o.targetUtilization, true);
    const processingBacklog = lag.seconds > o.backlogLagThresholdSeconds;
    const upper = processingBacklog ? 1 : o.targetUtilization + o.utilizationBoundary;
    const lower = processingBacklog ? 0 : o.targetUtilization - o.utilizationBoundary;
    const scaleUpThreshold = capacityAt(upper, false);
    const scaleDownThreshold = capacityAt(lower, true);
    const inputs = {
      tpr,
      inputRate,
      lagRecords: lag.records,
      targetCapacity,
      scaleUpThreshold,
      scaleDownThreshold,
    };

    const scaleFactor = Math.min(
      Math.max(targetCapacity / tpr, 1 - o.maxScaleDownFactor),
      1 + o.maxScaleUpFactor,
    );
    const target = alignToPartitions(
      current,
      scaleFactor,
      input.limits.partitions,
      Math.min(current, input.limits.minInstances),
      Math.max(current, upperBound(input.limits)),
    );
    if (target === current) {
      this.delayed = undefined;
      return { instances: current, reason: 'parallelism already fits', inputs };
    }
    let candidate = target;
    if (target > current) {
      this.delayed = undefined;
    } else {
      const afterInterval = this.applyScaleDownInterval(now, target);
      if (afterInterval === undefined) {
        return {
          instances: current,
          reason: `scale down to ${target} delayed by the scale-down interval`,
          inputs,
        };
      }
      candidate = afterInterval;
    }
    // Flink rescales only when some vertex is outside its utilisation band.
    if (tpr >= scaleUpThreshold && tpr <= scaleDownThreshold) {
      return { instances: current, reason: `within utilization band (recommended ${candidate})`, inputs };
    }
    this.lastRescaleMs = now;
    this.delayed = undefined;
    const direction = candidate > current ? 'scale up' : 'scale down';
    return {
      instances: candidate,
      reason: `${direction}: target capacity ${targetCapacity} vs true processing rate ${Math.round(tpr)}`,
      inputs,
    };
  }

  /** Records a down recommendation; returns the parallelism to apply once the interval passed. */
  private applyScaleDownInterval(now: number, target: number): number | undefined {
    const intervalMs = this.o.scaleDownIntervalSeconds * 1000;
    if (intervalMs <= 0) return target;
    const delayed = this.delayed ?? { firstTriggerMs: now, recommendations: [] };
    this.delayed = delayed;
    const windowStart = now - intervalMs;
    delayed.recommendations = delayed.recommendations.filter((r) => r.timeMs >= windowStart);
    delayed.recommendations.push({ timeMs: now, parallelism: target });
    if (windowStart < delayed.firstTriggerMs) return undefined;
    return Math.max(...delayed.recommendations.map((r) => r.parallelism));
  }
}
/**
 * Flink's JobVertexScaler.scale for a source with known partitions (EVENLY_SPREAD): ceil(current *
 * factor) within the limits, then the nearest count at or above it that divides the partitions;
 * failing that, the smallest count that keeps the per-instance partition load, never crossing to
 * the other side of the current parallelism.
 */
export function alignToPartitions(
  current: number,
  scaleFactor: number,
  partitions: number,
  lowerLimit: number,
  upperLimit: number,
): number {
  let next = Math.min(Math.ceil(scaleFactor * current), Number.MAX_SAFE_INTEGER);
  const upper = Math.min(partitions, upperLimit);
  next = Math.min(Math.max(lowerLimit, next), upper);
  if (next === current) return next;
  const isScaleUp = next > current;
  const phase1Upper = isScaleUp ? upper : Math.min(current, upper);
  for (let p = next; p <= phase1Upper; p++) {
    if (partitions % p === 0) return p;
  }
  let p = next;
  for (; p > 0; p--) {
    if (Math.floor(partitions / p) > Math.floor(partitions / next)) {
      if (partitions % p !== 0) p++;
      break;
    }
  }
  p = Math.max(p, lowerLimit);
  if ((isScaleUp && p <= current) || (!isScaleUp && p >= current)) return current;
  return p;
}
