// Spark Streaming's dynamic allocation (apache/spark streaming/src/main/scala/org/apache/spark/
// streaming/scheduler/ExecutorAllocationManager.scala): every scaling interval, the average batch
// processing time over the interval divided by the batch interval decides. At or above
// `spark.streaming.dynamicAllocation.scalingUpRatio` (0.9) it adds max(round(ratio), 1) instances;
// at or below `scalingDownRatio` (0.3) it removes one. Batches are forgotten after each evaluation,
// and an interval without batches does nothing.
// This rule exists only for DStreams (Spark Streaming); Structured Streaming has no streaming
// dynamic allocation. Spark's PID backpressure (streaming/.../scheduler/RateController.scala,
// `spark.streaming.backpressure.enabled`) defaults to false, so the benchmark runs this policy with
// backpressure off and on and takes the better of the two as the baseline.
import type { ScalingDecision, ScalingInput, ScalingLimits, ScalingPolicy } from '../types';
import { assertValidLimits, upperBound } from './limits';

export interface SparkRatioOptions {
  scalingIntervalSeconds?: number;
  scalingUpRatio?: number;
  scalingDownRatio?: number;
}

/** Spark's requestExecutors: current + new, capped by max, raised to min. */
export function sparkRequestTotal(current: number, numNew: number, min: number, max: number): number {
  if (!(numNew >= 1)) throw new RangeError(`numNewExecutors must be >= 1, got ${numNew}`);
  return Math.max(Math.min(max, current + numNew), min);
}

/** Spark's killExecutor: one fewer, but only while above the minimum. */
export function sparkKillTarget(current: number, min: number): number {
  return current > 0 && current > min ? current - 1 : current;
}

export class SparkRatioPolicy implements ScalingPolicy {
  readonly name = 'spark-ratio';
  readonly scalingIntervalMs: number;
  readonly scalingUpRatio: number;
  readonly scalingDownRatio: number;
  private lastEvaluationMs: number | undefined;

  constructor(options: SparkRatioOptions = {}) {
    const { scalingIntervalSeconds = 60, scalingUpRatio = 0.9, scalingDownRatio = 0.3 } = options;
    if (!(scalingIntervalSeconds > 0))
      throw new RangeError(`scalingInterval must be > 0, got ${scalingIntervalSeconds}`);
    if (!(scalingUpRatio > 0)) throw new RangeError(`scalingUpRatio must be > 0, got ${scalingUpRatio}`);
    if (!(scalingDownRatio > 0))
      throw new RangeError(`scalingDownRatio must be > 0, got ${scalingDownRatio}`);
    if (!(scalingUpRatio > scalingDownRatio)) {
      throw new RangeError('scalingUpRatio must be more than scalingDownRatio');
    }
    this.scalingIntervalMs = scalingIntervalSeconds * 1000;
    this.scalingUpRatio = scalingUpRatio;
    this.scalingDownRatio = scalingDownRatio;
  }

  decide(input: ScalingInput): ScalingDecision {
    assertValidLimits(input.limits);
    const current = input.currentInstances;
    // Spark's timer starts with the streaming context; the first tick only starts the clock.
    if (this.lastEvaluationMs === undefined) this.lastEvaluationMs = input.nowMs;
    if (input.nowMs - this.lastEvaluationMs < this.scalingIntervalMs) {
      return { instances: current, reason: 'waiting for the scaling interval', inputs: {} };
    }
    const since = this.lastEvaluationMs;
    this.lastEvaluationMs = input.nowMs;
    return this.evaluate(input, since);
  }

  private evaluate(input: ScalingInput, sinceMs: number): ScalingDecision {
    const current = input.currentInstances;
    const batches = input.samples.filter((s) => s.timeMs > sinceMs && s.timeMs <= input.nowMs);
    if (batches.length === 0)
      return { instances: current, reason: 'no completed batches in the interval', inputs: {} };
    const triggerMs = batches[batches.length - 1]?.triggerMs ?? 1;
    // Spark keeps the sum in a Long and divides as integers.
    const sum = batches.reduce((acc, s) => acc + Math.round(s.batchDurationMs), 0);
    const averageBatchProcTimeMs = Math.trunc(sum / batches.length);
    const ratio = averageBatchProcTimeMs / triggerMs;
    const inputs = { averageBatchProcTimeMs, ratio, batches: batches.length, triggerMs };
    const bounds = boundsOf(input.limits);
    if (ratio >= this.scalingUpRatio) {
      const numNew = Math.max(Math.round(ratio), 1);
      const instances = sparkRequestTotal(current, numNew, bounds.min, bounds.max);
      return {
        instances,
        reason: `ratio ${ratio.toFixed(2)} >= ${this.scalingUpRatio}: request ${numNew} more`,
        inputs,
      };
    }
    if (ratio <= this.scalingDownRatio) {
      const instances = sparkKillTarget(current, bounds.min);
      return { instances, reason: `ratio ${ratio.toFixed(2)} <= ${this.scalingDownRatio}: kill one`, inputs };
    }
    return { instances: current, reason: `ratio ${ratio.toFixed(2)} within bounds`, inputs };
  }
}

function boundsOf(limits: ScalingLimits): { min: number; max: number } {
  return { min: limits.minInstances, max: upperBound(limits) };
}
