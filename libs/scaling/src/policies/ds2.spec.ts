import { describe, expect, it } from 'vitest';
import { input, steadyLag, steadySamples } from '../test-support/inputs';
import { alignToPartitions, Ds2Policy, maxBusyTimeTpr, observedTpr } from './ds2';

const MIN = 60_000;

describe('ds2 partition alignment (Flink JobVertexScaler.scale, EVENLY_SPREAD)', () => {
  it('matches Flink test cases', () => {
    expect(alignToPartitions(6, 0.8, 36, 1, Number.MAX_SAFE_INTEGER)).toBe(6);
    expect(alignToPartitions(16, 1.5, 128, 1, Number.MAX_SAFE_INTEGER)).toBe(32);
    expect(alignToPartitions(200, 1.3, 720, 1, Number.MAX_SAFE_INTEGER)).toBe(360);
    expect(alignToPartitions(200, Number.MAX_SAFE_INTEGER, 720, 1, Number.MAX_SAFE_INTEGER)).toBe(720);
  });

  it('never crosses to the other side of the current parallelism', () => {
    // 48 partitions, 8 -> ceil(8 * 0.9) = 8: no change; 8 -> 6 is a divisor.
    expect(alignToPartitions(8, 0.9, 48, 1, 48)).toBe(8);
    expect(alignToPartitions(8, 0.7, 48, 1, 48)).toBe(6);
    expect(alignToPartitions(4, 2.2, 48, 1, 48)).toBe(12);
  });
});

describe('ds2 policy', () => {
  const traffic = { rate: 3000, instances: 4 };

  it('waits for stabilisation plus a full metric window after start', () => {
    const policy = new Ds2Policy();
    const at = (minutes: number) =>
      policy.decide(
        input({
          nowMs: minutes * MIN,
          currentInstances: 4,
          samples: steadySamples(0, minutes * 60, { ...traffic, rate: 9000 }),
          lag: steadyLag(0, minutes * 60, 9000, 120),
        }),
      );
    expect(at(0).reason).toBe('stabilizing');
    expect(at(6).reason).toBe('collecting metric window');
    expect(at(19).instances).toBe(4);
    expect(at(20).instances).toBeGreaterThan(4);
  });

  it('scales up to target capacity over the true processing rate, partition-aligned', () => {
    const policy = new Ds2Policy({ stabilizationSeconds: 0, metricsWindowSeconds: 60 });
    policy.decide(input({ nowMs: 0, currentInstances: 4 }));
    // 4 instances of 1000/s each (12 partitions each): true rate ~ 4 * 1000 rows per busy second.
    const samples = steadySamples(0, 120, { rate: 3500, instances: 4 });
    const lag = steadyLag(0, 120, 6000, 30);
    const d = policy.decide(input({ nowMs: 120_000, currentInstances: 4, samples, lag }));
    // target = lag/1800 + 6000 * 300/1800 + 6000/0.7 ~ 9.7k; TPR ~ 3.8k; factor ~ 2.6 -> ceil(10.3) = 11 -> 12.
    expect(d.instances).toBe(12);
    expect(d.reason).toMatch(/scale up/);
  });

  it('delays a scale-down by the scale-down interval and then uses the highest recommendation', () => {
    const policy = new Ds2Policy({
      stabilizationSeconds: 0,
      metricsWindowSeconds: 60,
      scaleDownIntervalSeconds: 600,
    });
    policy.decide(input({ nowMs: 0, currentInstances: 16 }));
    const decideAt = (s: number, rate: number) =>
      policy.decide(
        input({
          nowMs: s * 1000,
          currentInstances: 16,
          samples: steadySamples(s - 120, s, { rate, instances: 16 }),
          lag: steadyLag(s - 120, s, rate, 10),
        }),
      );
    expect(decideAt(120, 1000).reason).toMatch(/delayed/);
    expect(decideAt(400, 2000).instances).toBe(16);
    const after = decideAt(720, 1000);
    // Capped by the max scale-down factor 0.6 (16 -> ceil(6.4) = 7 -> 8), highest of the window.
    expect(after.instances).toBe(8);
  });
});

describe('ds2 faithful to the Flink autoscaler', () => {
  it('MAX busy time: the busiest instance sets the load, so skew lowers the true processing rate', () => {
    // 30 000 rows per 10 s trigger; slowest batch 8 s, the group's average busy share far lower.
    const sample = {
      timeMs: 10_000,
      inputRowsPerSecond: 3000,
      processedRowsPerSecond: 12_000,
      batchDurationMs: 8000,
      numInputRows: 30_000,
      triggerMs: 10_000,
      instances: 4,
      busyMs: 10_000,
    };
    // MAX: 3000 rows/s over load 0.8 = 3750/s; AVG would say 30 000 / 2.5 s = 12 000/s.
    expect(maxBusyTimeTpr([sample])).toBeCloseTo(3750, 6);
    expect(maxBusyTimeTpr([{ ...sample, numInputRows: 0 }])).toBeUndefined();
  });

  it('observed rate: only intervals read while the lag exceeds 30 s of input, at least two of them', () => {
    const samples = steadySamples(0, 30, { rate: 2000, instances: 4 });
    const behind = steadyLag(0, 30, 2000, 40);
    const current = steadyLag(0, 30, 2000, 5);
    expect(observedTpr(samples, current, 30, 2)).toBeUndefined();
    expect(observedTpr(samples, behind, 30, 2)).toBeCloseTo(2000, 0);
    expect(observedTpr(samples.slice(0, 1), behind, 30, 2)).toBeUndefined();
  });

  it('evaluates once per 60 s reconcile, not on every control tick', () => {
    const policy = new Ds2Policy({ stabilizationSeconds: 0, metricsWindowSeconds: 60 });
    policy.decide(input({ nowMs: 0, currentInstances: 4 }));
    const at = (s: number) =>
      policy.decide(
        input({
          nowMs: s * 1000,
          currentInstances: 4,
          samples: steadySamples(0, s, { rate: 3000, instances: 4 }),
          lag: steadyLag(0, s, 3000, 10),
        }),
      );
    expect(at(60).reason).not.toBe('waiting for the reconcile interval');
    expect(at(75).reason).toBe('waiting for the reconcile interval');
    expect(at(105).reason).toBe('waiting for the reconcile interval');
    expect(at(120).reason).not.toBe('waiting for the reconcile interval');
  });

  it('counts stabilisation from every instance running again, not from the decision', () => {
    const policy = new Ds2Policy({ stabilizationSeconds: 300, metricsWindowSeconds: 60 });
    const hot = { rate: 9000, instances: 4 };
    policy.decide(input({ nowMs: 0, currentInstances: 4 }));
    const up = policy.decide(
      input({
        nowMs: 360_000,
        currentInstances: 4,
        samples: steadySamples(0, 360, hot),
        lag: steadyLag(0, 360, 9000, 120),
      }),
    );
    expect(up.instances).toBeGreaterThan(4);
    const n = up.instances;
    // The restarted job is not running with all tasks for 200 s.
    expect(policy.decide(input({ nowMs: 500_000, currentInstances: n, readyInstances: 0 })).reason).toBe(
      'restarting',
    );
    expect(policy.decide(input({ nowMs: 560_000, currentInstances: n, readyInstances: n })).reason).toBe(
      'stabilizing',
    );
    // 300 s after the decision it would be stable; from all-ready (560 s) it is not until 860 s.
    expect(policy.decide(input({ nowMs: 800_000, currentInstances: n, readyInstances: n })).reason).toBe(
      'stabilizing',
    );
    expect(policy.decide(input({ nowMs: 870_000, currentInstances: n, readyInstances: n })).reason).toBe(
      'collecting metric window',
    );
  });

  it('declares a rescale to be a full restart', () => {
    expect(new Ds2Policy().restartMode).toBe('full');
  });

  it('rejects a target utilisation outside (0, 1]', () => {
    expect(() => new Ds2Policy({ targetUtilization: 0 })).toThrow(/targetUtilization/);
    expect(() => new Ds2Policy({ targetUtilization: 1.5 })).toThrow(/targetUtilization/);
  });
});
