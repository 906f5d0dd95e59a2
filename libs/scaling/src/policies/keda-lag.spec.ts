import { describe, expect, it } from 'vitest';
import { input } from '../test-support/inputs';
import type { LagSample } from '../types';
import { KedaLagPolicy } from './keda-lag';

const lag = (records: number, timeMs = 0): LagSample[] => [{ timeMs, records, seconds: 1 }];
const limits = { minInstances: 1, maxInstances: 48, partitions: 12 };

describe('keda-lag', () => {
  it('wants ceil(lag / threshold) replicas, capped at the partition count', () => {
    const policy = new KedaLagPolicy({ lagThreshold: 1000, scaleUpPods: 100 });
    expect(policy.decide(input({ nowMs: 0, currentInstances: 1, lag: lag(4500), limits })).instances).toBe(5);
    const capped = new KedaLagPolicy({ lagThreshold: 1000, scaleUpPods: 100 });
    expect(capped.decide(input({ nowMs: 0, currentInstances: 1, lag: lag(90_000), limits })).instances).toBe(
      12,
    );
  });

  it('ignores changes within the HPA tolerance', () => {
    const policy = new KedaLagPolicy({ lagThreshold: 1000 });
    expect(policy.decide(input({ nowMs: 0, currentInstances: 4, lag: lag(4300), limits })).instances).toBe(4);
  });

  it('limits a scale-up to max(100 %, 4 pods) per period', () => {
    const policy = new KedaLagPolicy({ lagThreshold: 100 });
    expect(policy.decide(input({ nowMs: 0, currentInstances: 2, lag: lag(1200), limits })).instances).toBe(6);
    expect(
      policy.decide(input({ nowMs: 5_000, currentInstances: 6, lag: lag(1200, 5_000), limits })).instances,
    ).toBe(6);
    expect(
      policy.decide(input({ nowMs: 15_000, currentInstances: 6, lag: lag(1200, 15_000), limits })).instances,
    ).toBe(12);
  });

  it('scales down only to the highest recommendation of the last 300 s', () => {
    const policy = new KedaLagPolicy({ lagThreshold: 1000 });
    const at = (s: number, records: number, current: number) =>
      policy.decide(
        input({ nowMs: s * 1000, currentInstances: current, lag: lag(records, s * 1000), limits }),
      ).instances;
    expect(at(0, 8000, 8)).toBe(8);
    expect(at(100, 2000, 8)).toBe(8);
    expect(at(299, 2000, 8)).toBe(8);
    expect(at(301, 2000, 8)).toBe(2);
  });

  it('rejects a non-positive threshold', () => {
    expect(() => new KedaLagPolicy({ lagThreshold: 0 })).toThrow(RangeError);
  });
});
