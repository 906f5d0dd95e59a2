// The frontier's arithmetic (bench/autoscale/frontier.ts): medians over seeds, the cost to meet the
// SLO, the per-profile verdict and the merge of a parallel run (vitest project bench-unit).
import { describe, expect, it } from 'vitest';
import {
  costToMeetSlo,
  judgeProfile,
  median,
  medianOrNull,
  medianPoint,
  mergeRuns,
  sweepValues,
  withSeed,
  type FrontierPoint,
  type FrontierRun,
} from './frontier';
import { fixtureProfile, type SimulationSummary } from '@sluice/scaling';

const profile = fixtureProfile({
  name: 'p',
  durationSeconds: 3600,
  input: [{ at: 0, rate: 1000 }],
  noise: { seed: 3, capacityJitter: 0.05 },
});

const point = (value: number, sloViolationSeconds: number, instanceSeconds: number): FrontierPoint => ({
  value,
  sloViolationSeconds,
  instanceSeconds,
  scaleActions: 1,
  oscillations: 0,
  actionsToConverge: null,
});

const summary = (v: number, inst: number, reversals: number, converge: number | null): SimulationSummary => ({
  policy: 'x',
  profile: 'p',
  sloViolationSeconds: v,
  instanceSeconds: inst,
  scaleActions: 2,
  oscillations: 0,
  reversals,
  actionsToConverge: converge,
  maxLagSeconds: 0,
  maxBatchDurationSeconds: 0,
  lostRecords: 0,
});

function run(policies: Record<string, FrontierPoint[]>, sluice: { v: number; inst: number }): FrontierRun {
  return {
    frontier: {
      profile: 'p',
      seeds: 10,
      sloViolationBudgetSeconds: 36,
      policies: Object.fromEntries(
        Object.entries(policies).map(([name, points]) => [
          name,
          { knob: 'k', points, costToMeetSlo: costToMeetSlo(points, 36) },
        ]),
      ),
      sluiceDefault: {
        sloViolationSeconds: sluice.v,
        instanceSeconds: sluice.inst,
        scaleActions: 1,
        oscillations: 0,
        actionsToConverge: 1,
        lostRecords: 0,
      },
    },
    sluiceReversalsAllSeeds: 0,
  };
}

describe('frontier arithmetic', () => {
  it('medians: odd, even, and null when no seed had a step', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
    expect(medianOrNull([null, 2, null, 4, 9])).toBe(4);
    expect(medianOrNull([null, null])).toBeNull();
  });

  it('a point is the per-metric median over seeds, oscillations being the 15-minute reversals', () => {
    const p = medianPoint(0.7, [summary(0, 100, 0, 1), summary(50, 300, 2, 3), summary(10, 200, 1, null)]);
    expect(p).toEqual({
      value: 0.7,
      sloViolationSeconds: 10,
      instanceSeconds: 200,
      scaleActions: 2,
      oscillations: 1,
      actionsToConverge: 2,
    });
  });

  it('costToMeetSlo is the cheapest point within the budget, null when none is', () => {
    const points = [point(0.5, 0, 900), point(0.7, 36, 700), point(0.9, 37, 500)];
    expect(costToMeetSlo(points, 36)).toBe(700);
    expect(costToMeetSlo([point(0.9, 37, 500)], 36)).toBeNull();
  });

  it('judges sluice against the cheapest baseline that meets the SLO, never against itself', () => {
    const verdict = judgeProfile(
      run(
        {
          ds2: [point(0.5, 0, 1000)],
          'keda-lag': [point(1, 0, 2000), point(2, 99, 100)],
          sluice: [point(0.9, 0, 10)],
        },
        { v: 20, inst: 850 },
      ),
      'shipped',
    );
    expect(verdict.bestBaseline).toEqual({ policy: 'ds2', cost: 1000 });
    expect(verdict.costRatio).toBeCloseTo(0.85, 10);
    expect(verdict.met).toBe(true);
    const tooDear = judgeProfile(run({ ds2: [point(0.5, 0, 1000)] }, { v: 0, inst: 851 }), 'shipped');
    expect(tooDear.met).toBe(false);
    const violating = judgeProfile(run({ ds2: [point(0.5, 0, 1000)] }, { v: 37, inst: 10 }), 'shipped');
    expect(violating.violationsMet).toBe(false);
    expect(violating.met).toBe(false);
    // No baseline meets the SLO: the cost half of the target holds by definition.
    const alone = judgeProfile(run({ ds2: [point(0.5, 99, 1000)] }, { v: 0, inst: 5000 }), 'new');
    expect(alone.bestBaseline).toBeNull();
    expect(alone.met).toBe(true);
  });

  it('reads the clairvoyant reference beside the cost line, never as the baseline to beat', () => {
    const verdict = judgeProfile(
      run(
        {
          ds2: [point(0.5, 0, 1000)],
          clairvoyant: [point(0.85, 0, 950), point(0.9, 0, 900), point(1, 50, 700)],
        },
        { v: 0, inst: 840 },
      ),
      'new',
    );
    // The clairvoyant is cheaper than ds2, yet the target is still 0.85 of ds2's cost.
    expect(verdict.bestBaseline).toEqual({ policy: 'ds2', cost: 1000 });
    expect(verdict.costLine).toBeCloseTo(850, 10);
    expect(verdict.clairvoyantCost).toBe(900);
    // Its point at sluice's own target utilisation, for the comparison at equal headroom.
    expect(verdict.clairvoyantAtTarget?.instanceSeconds).toBe(950);
    expect(verdict.met).toBe(true);
    expect(
      judgeProfile(run({ ds2: [point(0.5, 0, 1000)] }, { v: 0, inst: 1 }), 'new').clairvoyantCost,
    ).toBeNull();
  });

  it('merges a parallel run: policies from every chunk, the default from the one that ran it', () => {
    const a = run({ ds2: [point(0.5, 0, 1000)] }, { v: Number.NaN, inst: Number.NaN });
    const b = run({ sluice: [point(0.85, 0, 500)] }, { v: 3, inst: 480 });
    // NaN crosses the process boundary as null.
    const viaJson = JSON.parse(JSON.stringify(a)) as FrontierRun;
    const merged = mergeRuns([viaJson, b]);
    expect(Object.keys(merged.frontier.policies)).toEqual(['ds2', 'sluice']);
    expect(merged.frontier.sluiceDefault.instanceSeconds).toBe(480);
    expect(() => mergeRuns([viaJson])).toThrow(/sluice default/);
  });

  it('sweeps five values, or first, middle and last when coarse; seeds shift by 1000', () => {
    expect(sweepValues('ds2', profile, false)).toEqual([0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(sweepValues('ds2', profile, true)).toEqual([0.5, 0.7, 0.9]);
    expect(() => sweepValues('nope', profile, true)).toThrow(/no knob/);
    // The reference is swept whole, sluice's default target among its points.
    expect(sweepValues('clairvoyant', profile, true)).toEqual([0.8, 0.85, 0.9, 0.95, 1]);
    expect(withSeed(profile, 2).noise.seed).toBe(2003);
  });
});
