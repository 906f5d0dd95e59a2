// Spark's ExecutorAllocationManagerSuite cases that apply without receivers.
import { describe, expect, it } from 'vitest';
import type { ProgressSample, ScalingLimits } from '../types';
import { SparkRatioPolicy, sparkKillTarget, sparkRequestTotal } from './spark-ratio';

const BATCH_MS = 1000;
const limits: ScalingLimits = { minInstances: 1, maxInstances: 100, partitions: 100 };
const sample = (timeMs: number, batchDurationMs: number): ProgressSample => ({
  timeMs,
  batchDurationMs,
  triggerMs: BATCH_MS,
  numInputRows: 100,
  inputRowsPerSecond: 100,
  processedRowsPerSecond: 100,
});

describe('spark-ratio', () => {
  it('basic functionality: batch time over interval decides, as in Spark', () => {
    // Two executors; each round adds one batch and lets the scaling interval (60 s) pass.
    const expectations: [number, number][] = [
      [BATCH_MS, 3], // ratio 1 -> +1
      [BATCH_MS * 2, 4], // ratio 2 -> +2
      [BATCH_MS * 0.9 + 1, 3], // just above the up ratio -> +1
      [BATCH_MS * 0.9 - 1, 2], // just below it -> no change
      [BATCH_MS * 0.3 + 1, 2], // just above the down ratio -> no change
      [BATCH_MS * 0.3 - 1, 1], // just below it -> kill one
    ];
    let now = 0;
    for (const [procMs, expected] of expectations) {
      const policy = new SparkRatioPolicy();
      policy.decide({ nowMs: now, samples: [], lag: [], currentInstances: 2, limits });
      now += 60_001;
      const decision = policy.decide({
        nowMs: now,
        samples: [sample(now - 1, procMs)],
        lag: [],
        currentInstances: 2,
        limits,
      });
      expect(decision.instances, `batch ${procMs} ms`).toBe(expected);
    }
  });

  it('averages batches with integer division and forgets them after each evaluation', () => {
    const policy = new SparkRatioPolicy();
    policy.decide({ nowMs: 0, samples: [], lag: [], currentInstances: 2, limits });
    // (899 + 900) / 2 = 899 ms (Long division): ratio 0.899 stays below 0.9.
    const samples = [sample(10_000, 899), sample(20_000, 900)];
    expect(policy.decide({ nowMs: 60_000, samples, lag: [], currentInstances: 2, limits }).instances).toBe(2);
    // The same batches are not counted again in the next interval: no batches, no action.
    const next = policy.decide({ nowMs: 120_000, samples, lag: [], currentInstances: 2, limits });
    expect(next.instances).toBe(2);
    expect(next.reason).toMatch(/no completed batches/);
  });

  it('acts only once per scaling interval', () => {
    const policy = new SparkRatioPolicy({ scalingIntervalSeconds: 60 });
    policy.decide({ nowMs: 0, samples: [], lag: [], currentInstances: 2, limits });
    const slow = [sample(5_000, 5000)];
    expect(
      policy.decide({ nowMs: 30_000, samples: slow, lag: [], currentInstances: 2, limits }).instances,
    ).toBe(2);
    expect(
      policy.decide({ nowMs: 60_000, samples: slow, lag: [], currentInstances: 2, limits }).instances,
    ).toBe(7);
  });

  it('requestExecutors policy (min and max clamps)', () => {
    expect(() => sparkRequestTotal(0, 0, 1, Number.MAX_SAFE_INTEGER)).toThrow(RangeError);
    const table: [number, number, number, number, number][] = [
      // current, new, min, max, expected total
      [0, 1, 1, Infinity, 1],
      [1, 1, 1, Infinity, 2],
      [2, 2, 1, Infinity, 4],
      [0, 1, 2, Infinity, 2],
      [1, 1, 2, Infinity, 2],
      [2, 2, 2, Infinity, 4],
      // minExecutors = 2
      [0, 3, 2, Infinity, 3],
      [1, 2, 2, Infinity, 3],
      [2, 1, 2, Infinity, 3],
      // maxExecutors = 2
      [0, 1, 1, 2, 1],
      [0, 3, 1, 2, 2],
      [1, 2, 1, 2, 2],
      [2, 1, 1, 2, 2],
      [2, 2, 1, 2, 2],
    ];
    for (const [current, numNew, min, max, expected] of table) {
      expect(sparkRequestTotal(current, numNew, min, max), `${current}+${numNew} in [${min},${max}]`).toBe(
        expected,
      );
    }
  });

  it('killExecutor policy: only above the minimum', () => {
    expect(sparkKillTarget(0, 1)).toBe(0);
    expect(sparkKillTarget(1, 1)).toBe(1);
    expect(sparkKillTarget(2, 1)).toBe(1);
    expect(sparkKillTarget(2, 2)).toBe(2);
    expect(sparkKillTarget(3, 2)).toBe(2);
  });

  it('parameter validation', () => {
    for (const ok of [
      { scalingIntervalSeconds: 1 },
      { scalingUpRatio: 1.1 },
      { scalingDownRatio: 0.1 },
      { scalingUpRatio: 1.1, scalingDownRatio: 0.1 },
    ]) {
      expect(() => new SparkRatioPolicy(ok)).not.toThrow();
    }
    const bad = [
      { scalingIntervalSeconds: -1 },
      { scalingIntervalSeconds: 0 },
      { scalingUpRatio: -0.1 },
      { scalingUpRatio: 0 },
      { scalingDownRatio: -0.1 },
      { scalingDownRatio: 0 },
      { scalingUpRatio: 0.5, scalingDownRatio: 0.5 },
      { scalingUpRatio: 0.3, scalingDownRatio: 0.5 },
    ];
    for (const options of bad)
      expect(() => new SparkRatioPolicy(options), JSON.stringify(options)).toThrow(RangeError);
    const policy = new SparkRatioPolicy();
    for (const l of [
      { minInstances: 0, maxInstances: 3, partitions: 3 },
      { minInstances: -1, maxInstances: 3, partitions: 3 },
      { minInstances: 1, maxInstances: 0, partitions: 3 },
      { minInstances: 4, maxInstances: 3, partitions: 8 },
    ]) {
      expect(
        () => policy.decide({ nowMs: 0, samples: [], lag: [], currentInstances: 1, limits: l }),
        JSON.stringify(l),
      ).toThrow(RangeError);
    }
  });
});
