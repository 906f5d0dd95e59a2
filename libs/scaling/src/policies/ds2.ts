// The Flink Kubernetes operator's autoscaler (DS2), reduced to one source-bound vertex with the
// operator's defaults. Rules and where they live in apache/flink-kubernetes-operator
// (flink-autoscaler/src/main/java/org/apache/flink/autoscaler/...):
// - metrics are evaluated once per reconcile (`kubernetes.operator.reconcile.interval`, 60 s), not
//   on every 15 s tick of the simulator;
// - busy time is aggregated over subtasks with `job.autoscaler.metrics.busy-time.aggregator`,
//   default MAX (config/AutoScalerOptions.java); the per-collection LOAD (busiest subtask's busy
//   share) is averaged over the window and the true processing rate is the averaged input rate over
//   it (metrics/ScalingMetrics.computeLoadMetrics, ScalingMetricEvaluator.computeBusyTimeAvg and
//   computeTprInputRate). In a micro-batch engine the busiest instance's busy share of an interval
//   is its slowest batch over the trigger;
// - while the source is catching up (lag >= `observed-true-processing-rate.lag-threshold`, 30 s,
//   times the input rate) the observed rate is recorded (ScalingMetrics.getObservedTpr); once there
//   are `observed-true-processing-rate.min-observations` (2) of them and the busy-time rate exceeds
//   their average by more than `observed-true-processing-rate.switch-threshold` (0.15), the
//   observed rate is used instead (ScalingMetricEvaluator.selectTprMetric);
// - target capacity = lag / catch-up + input * restart / catch-up + input / target utilisation;
//   rescaling happens only when the processing rate leaves the utilisation band (utils/
//   AutoScalerUtils.getTargetProcessingCapacity, ScalingMetricEvaluator.computeProcessingRate-
//   Thresholds), the new parallelism is ceil(current * target / true processing rate), aligned to
//   divide the partitions (JobVertexScaler.scale);
// - only with a full metric window collected after `stabilization.interval` (5 min) counted from
//   the job running again with all its tasks (JobAutoScalerImpl / ScalingMetricCollector: the
//   window is cleared while the job is not RUNNING), scales down at most by `scale-down.max-factor`
//   and only after a down recommendation persisted for `scale-down.interval` (then to the highest
//   recommendation of that interval, DelayedScaleDown.java);
// - a rescale is a full job restart (`restartMode = 'full'`): every instance stops and comes back
//   from the checkpoint, not only the new ones (ScalingRealizer applies a new parallelism map).
import type { LagSample, ProgressSample, ScalingDecision, ScalingInput, ScalingPolicy } from '../types';
import { lagAt, produceRate, trueProcessingRate } from '../window-stats';
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
  /** How often metrics are evaluated (the operator's reconcile interval). */
  evaluationIntervalSeconds?: number;
  /** 1 = MAX over instances (Flink's default), 0 = AVG (accumulated busy time / parallelism). */
  busyTimeAggregatorMax?: number;
  /** Observed-rate switch: lag threshold (s of input), min observations, switch threshold. */
  observedTprLagThresholdSeconds?: number;
  observedTprMinObservations?: number;
  observedTprSwitchThreshold?: number;
}

/** Flink rescales by restarting the whole job from its last checkpoint. */
export const DS2_RESTART_MODE = 'full' as const;

interface DelayedScaleDown {
  firstTriggerMs: number;
  recommendations: { timeMs: number; parallelism: number }[];
}

export class Ds2Policy implements ScalingPolicy {
  readonly name = 'ds2';
  readonly restartMode = DS2_RESTART_MODE;
  private readonly o: Required<Ds2Options>;
  /** Last rescale (or the first tick, which Flink treats like a job start). */
  private lastRescaleMs: number | undefined;
  /** When every instance was up again after the last rescale (stabilisation counts from here). */
  private runningSinceMs: number | undefined;
  private lastEvaluationMs: number | undefined;
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
      evaluationIntervalSeconds: 60,
      busyTimeAggregatorMax: 1,
      observedTprLagThresholdSeconds: 30,
      observedTprMinObservations: 2,
      observedTprSwitchThreshold: 0.15,
      ...options,
    };
    if (!(this.o.evaluationIntervalSeconds > 0))
      throw new RangeError(`evaluationIntervalSeconds must be > 0, got ${this.o.evaluationIntervalSeconds}`);
    if (this.o.busyTimeAggregatorMax !== 0 && this.o.busyTimeAggregatorMax !== 1)
      throw new RangeError(`busyTimeAggregatorMax must be 0 or 1, got ${this.o.busyTimeAggregatorMax}`);
    if (!(this.o.targetUtilization > 0 && this.o.targetUtilization <= 1))
      throw new RangeError(`targetUtilization must be in (0, 1], got ${this.o.targetUtilization}`);
  }

  decide(input: ScalingInput): ScalingDecision {
    assertValidLimits(input.limits);
    const o = this.o;
    const current = input.currentInstances;
    const now = input.nowMs;
    if (this.lastRescaleMs === undefined) {
      this.lastRescaleMs = now;
      this.runningSinceMs = now;
    }
    const ready = input.readyInstances ?? current;
    if (this.runningSinceMs === undefined) {
      // Restarting: Flink collects nothing until the job is RUNNING with all its tasks again.
      if (ready < current) return { instances: current, reason: 'restarting', inputs: {} };
      this.runningSinceMs = now;
    }
    const stableMs = this.runningSinceMs + o.stabilizationSeconds * 1000;
    const fullMs = stableMs + o.metricsWindowSeconds * 1000;
    if (now < fullMs) {
      return {
        instances: current,
        reason: now < stableMs ? 'stabilizing' : 'collecting metric window',
        inputs: {},
      };
    }
    if (
      this.lastEvaluationMs !== undefined &&
      now - this.lastEvaluationMs < o.evaluationIntervalSeconds * 1000
    )
      return { instances: current, reason: 'waiting for the reconcile interval', inputs: {} };
    this.lastEvaluationMs = now;
    const windowStart = Math.max(stableMs, now - o.metricsWindowSeconds * 1000);
    const samples = input.samples.filter((s) => s.timeMs > windowStart && s.timeMs <= now);
    const busyTpr = o.busyTimeAggregatorMax === 1 ? maxBusyTimeTpr(samples) : trueProcessingRate(samples);
    const observed = observedTpr(
      samples,
      input.lag,
      o.observedTprLagThresholdSeconds,
      o.observedTprMinObservations,
    );
    const useObserved =
      observed !== undefined &&
      (busyTpr === undefined || busyTpr > observed * (1 + o.observedTprSwitchThreshold));
    const tpr = useObserved ? observed : busyTpr;
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
      tprSource: useObserved ? 'observed' : 'busy time',
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
    this.runningSinceMs = undefined;
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

/**
 * True processing rate with the MAX busy-time aggregator: the window's average input rate over the
 * window's average load, the load of an interval being the busiest instance's busy share (its
 * slowest batch over the trigger, at most 1). Undefined without a sample that read rows.
 */
export function maxBusyTimeTpr(samples: readonly ProgressSample[]): number | undefined {
  let rate = 0;
  let load = 0;
  let n = 0;
  for (const s of samples) {
    if (s.numInputRows <= 0 || s.triggerMs <= 0) continue;
    rate += readRate(s);
    load += Math.min(1, s.batchDurationMs / s.triggerMs);
    n++;
  }
  if (n === 0 || load <= 0) return undefined;
  return rate / n / (load / n);
}

/**
 * Flink's observed true processing rate for a source: the rate read in intervals while catching up
 * (lag at least `lagThresholdSeconds` of the interval's input rate), averaged; undefined with fewer
 * than `minObservations` such intervals. Sources here are never backpressured by a downstream
 * operator, so the backpressure correction of ScalingMetrics.computeObservedTprWithBackpressure is 1.
 */
export function observedTpr(
  samples: readonly ProgressSample[],
  lag: readonly LagSample[],
  lagThresholdSeconds: number,
  minObservations: number,
): number | undefined {
  let sum = 0;
  let n = 0;
  for (const s of samples) {
    const rate = readRate(s);
    if (!(rate > 0)) continue;
    const at = lagAt(lag, s.timeMs - s.batchDurationMs);
    if (!at || at.records < lagThresholdSeconds * rate) continue;
    sum += rate;
    n++;
  }
  return n >= Math.max(1, minObservations) ? sum / n : undefined;
}

/** Rows per wall-clock second of an interval: a batch overrunning the trigger stretches it. */
function readRate(s: ProgressSample): number {
  return (s.numInputRows * 1000) / Math.max(s.triggerMs, s.batchDurationMs, 1);
}
