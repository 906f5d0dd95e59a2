// Spark's PIDRateEstimatorSuite, case by case.
import { describe, expect, it } from 'vitest';
import { PidRateEstimator } from './pid-rate-estimator';
import { seededRandom } from './simulator/prng';

const defaultEstimator = () =>
  new PidRateEstimator({ batchIntervalMs: 20, proportional: 1, integral: 0, derivative: 0, minRate: 10 });

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('PidRateEstimator', () => {
  it('uses Spark defaults', () => {
    const p = new PidRateEstimator({ batchIntervalMs: 1000 });
    expect([p.proportional, p.integral, p.derivative, p.minRate]).toEqual([1, 0.2, 0, 100]);
  });

  it('checks ranges', () => {
    expect(
      () =>
        new PidRateEstimator({
          batchIntervalMs: 0,
          proportional: 1,
          integral: 2,
          derivative: 3,
          minRate: 10,
        }),
    ).toThrow(RangeError);
    expect(
      () =>
        new PidRateEstimator({
          batchIntervalMs: 100,
          proportional: -1,
          integral: 2,
          derivative: 3,
          minRate: 10,
        }),
    ).toThrow(RangeError);
    expect(
      () =>
        new PidRateEstimator({
          batchIntervalMs: 100,
          proportional: 0,
          integral: -1,
          derivative: 3,
          minRate: 10,
        }),
    ).toThrow(RangeError);
    expect(
      () =>
        new PidRateEstimator({
          batchIntervalMs: 100,
          proportional: 0,
          integral: 0,
          derivative: -1,
          minRate: 10,
        }),
    ).toThrow(RangeError);
    expect(
      () =>
        new PidRateEstimator({
          batchIntervalMs: 100,
          proportional: 0,
          integral: 0,
          derivative: 0,
          minRate: 0,
        }),
    ).toThrow(RangeError);
    expect(
      () =>
        new PidRateEstimator({
          batchIntervalMs: 100,
          proportional: 0,
          integral: 0,
          derivative: 0,
          minRate: -10,
        }),
    ).toThrow(RangeError);
    expect(() => new PidRateEstimator({ batchIntervalMs: Number.NaN })).toThrow(RangeError);
  });

  it('first estimate is undefined', () => {
    expect(defaultEstimator().compute(0, 10, 10, 0)).toBeUndefined();
  });

  it('second estimate is defined', () => {
    const p = defaultEstimator();
    p.compute(0, 10, 10, 0);
    expect(p.compute(10, 10, 10, 0)).toBe(1000); // 1000 elements / s
  });

  it('no estimate when no time difference between successive calls', () => {
    const p = defaultEstimator();
    p.compute(0, 10, 10, 0);
    expect(p.compute(10, 10, 10, 0)).toBeDefined();
    expect(p.compute(10, 10, 10, 0)).toBeUndefined();
  });

  it('no estimate when no records in previous batch', () => {
    const p = defaultEstimator();
    p.compute(0, 10, 10, 0);
    expect(p.compute(10, 0, 10, 0)).toBeUndefined();
    expect(p.compute(20, -10, 10, 0)).toBeUndefined();
  });

  it('no estimate when there is no processing delay', () => {
    const p = defaultEstimator();
    p.compute(0, 10, 10, 0);
    expect(p.compute(10, 10, 0, 0)).toBeUndefined();
    expect(p.compute(20, 10, -10, 0)).toBeUndefined();
  });

  it('estimate is never less than min rate', () => {
    const minRate = 5;
    const p = new PidRateEstimator({
      batchIntervalMs: 20,
      proportional: 1,
      integral: 1,
      derivative: 0,
      minRate,
    });
    // One batch every 20 ms, 1 element, 20 ms of processing, strictly positive accumulation.
    const res = range(50).map((i) => p.compute(i * 20, 1, 20, 100));
    expect(res[0]).toBeUndefined();
    expect(res.slice(1)).toEqual(range(49).map(() => minRate));
  });

  it('with no accumulated or positive error, |I| > 0, follows the processing speed', () => {
    const p = new PidRateEstimator({
      batchIntervalMs: 20,
      proportional: 1,
      integral: 1,
      derivative: 0,
      minRate: 10,
    });
    // Increasing element counts at constant processing time and no scheduling delay: only the
    // proportional term acts even though the integral weight is non-zero.
    const res = range(50).map((i) => p.compute(i * 20, (i + 1) * 20, 20, 0));
    expect(res[0]).toBeUndefined();
    expect(res.slice(1)).toEqual(
      range(50)
        .map((x) => (x + 1) * 1000)
        .slice(1),
    );
  });

  it('with no accumulated but some positive error, |I| > 0, follows the processing speed', () => {
    const p = new PidRateEstimator({
      batchIntervalMs: 20,
      proportional: 1,
      integral: 1,
      derivative: 0,
      minRate: 10,
    });
    const res = range(50).map((i) => p.compute(i * 20, (50 - i) * 20, 20, 0));
    expect(res[0]).toBeUndefined();
    expect(res.slice(1)).toEqual(
      range(50)
        .map((x) => (50 - x) * 1000)
        .slice(1),
    );
  });

  it('with some accumulated and some positive error, |I| > 0, stays below the processing speed', () => {
    const p = new PidRateEstimator({
      batchIntervalMs: 20,
      proportional: 1,
      integral: 0.01,
      derivative: 0,
      minRate: 10,
    });
    const random = seededRandom(42);
    const elements = range(50).map(() => Math.floor(random() * 1000));
    const procDelayMs = 20;
    const sched = range(50).map(() => Math.floor(random() * 19));
    const speeds = elements.map((x) => (x / procDelayMs) * 1000);
    const res = range(50).map((i) => p.compute(i * 20, elements[i] ?? 0, procDelayMs, sched[i] ?? 0));
    expect(res[0]).toBeUndefined();
    for (let n = 1; n < 50; n++) {
      const estimate = res[n];
      // Spark's test would also accept None here only if elements were 0; the seed avoids that.
      expect(estimate).toBeDefined();
      if (estimate !== undefined && estimate > 0 && (sched[n] ?? 0) > 0) {
        expect(estimate).toBeLessThan(speeds[n] ?? 0);
      }
    }
  });
});
