// The clairvoyant reference (bench/autoscale/clairvoyant.ts): its capacity follows the simulator's
// engine equations, and its foresight scales a group before a step rather than after it
// (vitest project bench-unit).
import { describe, expect, it } from 'vitest';
import { simulate, stepFixture, type Profile } from '@sluice/scaling';
import { ClairvoyantPolicy, groupRate } from './clairvoyant';

const base = stepFixture(
  'c',
  { from: 2000, to: 8000, atSeconds: 900, durationSeconds: 1800 },
  { seed: 5, capacityJitter: 0 },
);

const withModel = (model: Profile['model']): Profile => ({ ...base, ...(model && { model }) });

describe('clairvoyant reference', () => {
  it('sustains capacity · (busy · T − overhead) / T per instance on aligned counts', () => {
    const { capacity, batchOverheadSeconds = 0.5 } = base.instance;
    const perInstance = (capacity * (0.9 * base.triggerSeconds - batchOverheadSeconds)) / base.triggerSeconds;
    const partitions = base.partitions;
    // n instances are paced by the one holding ceil(P / n) partitions.
    for (const n of [1, 2, 3, 5, partitions]) {
      expect(groupRate(base, n, 0.9)).toBeCloseTo((perInstance * partitions) / Math.ceil(partitions / n), 6);
    }
    expect(groupRate(base, 4, 0.04)).toBe(0);
  });

  it('prices sublinear scaling, the batch-cost exponent and the worst pairing of hot partitions', () => {
    const plain = groupRate(base, 4, 0.9);
    expect(groupRate(withModel({ sublinearExponent: 0.1 }), 4, 0.9)).toBeCloseTo(plain * 4 ** -0.1, 6);
    // The simulator's cost is T · work^1.2 with work in triggers of full-speed rows: below one
    // trigger of work a batch costs less than linear, so room^(1 / 1.2) of a trigger fits.
    const room = (0.9 * base.triggerSeconds - 0.5) / base.triggerSeconds;
    expect(groupRate(withModel({ batchCostExponent: 1.2 }), 4, 0.9)).toBeCloseTo(
      (plain / room) * room ** (1 / 1.2),
      6,
    );
    const hot = withModel({ hotPartitions: { count: 2, factor: 3, moveEverySeconds: 600 } });
    const P = base.partitions;
    const owned = Math.ceil(P / 4);
    // Both hot partitions on the busiest instance: its share is (2·3 + owned − 2) of (2·3 + P − 2).
    const share = (2 * 3 + owned - 2) / (2 * 3 + P - 2);
    const perInstance = (plain * owned) / P;
    expect(groupRate(hot, 4, 0.9)).toBeCloseTo(perInstance / share, 6);
  });

  it('scales out ahead of a step by its lead time and meets the step without violation', () => {
    const policy = new ClairvoyantPolicy(base, 0.85);
    const limits = { minInstances: 1, maxInstances: base.instance.maxInstances, partitions: base.partitions };
    const decide = (t: number) =>
      policy.decide({ nowMs: t * 1000, samples: [], lag: [], currentInstances: 1, limits }).instances;
    // Lead = start-up + rejoin pause + one trigger + one control interval.
    const lead =
      base.instance.startupSeconds + base.instance.rebalancePauseSeconds + base.triggerSeconds + 15;
    expect(decide(900 - lead - 10)).toBe(policy.smallestCarrying(2000, limits.maxInstances));
    expect(decide(900 - lead + 5)).toBe(policy.smallestCarrying(8000, limits.maxInstances));
    const run = simulate(base, new ClairvoyantPolicy(base, 0.85), { pid: false, tickSeconds: 0.5 });
    expect(run.summary.sloViolationSeconds).toBe(0);
    const up = run.actions.find((a) => a.to > a.from && a.timeSeconds > 300);
    expect(up?.timeSeconds).toBeLessThan(900);
  });

  it('rejects a busy fraction outside (0, 1]', () => {
    expect(() => new ClairvoyantPolicy(base, 0)).toThrow(/busyFraction/);
    expect(() => new ClairvoyantPolicy(base, 1.1)).toThrow(/busyFraction/);
  });
});
