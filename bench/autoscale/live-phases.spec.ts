// The live comparison's simulation over every phase of the loop's ticks (live-phases.ts).
import { describe, expect, it } from 'vitest';
import { INITIAL_BATCH_RECORDS, MIN_BATCH_RECORDS, stepFixture } from '@sluice/scaling';
import { liveBatchBound, LIVE_TICK_SECONDS, middleOverPhases, simulateAsLive } from './live-phases';
import { summaryWith } from './summary-fixture';

/** A run with its violation seconds, and instance·s tied to them to tell whole runs apart. */
const summary = (sloViolationSeconds: number) =>
  summaryWith({
    sloViolationSeconds,
    instanceSeconds: sloViolationSeconds * 10,
    scaleActions: 1,
    actionsToConverge: 1,
  });

/** A step a single instance cannot carry: the policy scales out once it sees it. */
const step = stepFixture(
  'phase-step',
  { from: 1500, to: 6000, atSeconds: 300, durationSeconds: 900 },
  { seed: 3, capacityJitter: 0.05 },
);

describe('the live comparison over the phases of the loop', () => {
  it('takes a real run from the middle and reports the range', () => {
    const middle = middleOverPhases([40, 0, 34, 15, 14].map(summary));
    expect(middle.summary.sloViolationSeconds).toBe(15);
    expect(middle.summary.instanceSeconds).toBe(150); // the whole run, not a mix of runs
    expect(middle.violationRange).toEqual([0, 40]);
    // Two in the middle: the upper one.
    expect(middleOverPhases([10, 30, 20, 0].map(summary)).summary.sloViolationSeconds).toBe(20);
    expect(() => middleOverPhases([])).toThrow(RangeError);
  });

  it('a step costs some phases more than others, and the middle lies within them', () => {
    const phased = simulateAsLive(step, 'sluice');
    const [least, most] = phased.violationRange;
    expect(LIVE_TICK_SECONDS).toBe(10);
    expect(most).toBeGreaterThan(least);
    expect(phased.summary.scaleActions).toBeGreaterThan(0);
    expect(phased.summary.lostRecords).toBe(0);
    expect(least).toBeLessThanOrEqual(phased.summary.sloViolationSeconds);
    expect(phased.summary.sloViolationSeconds).toBeLessThanOrEqual(most);
    // Every phase's run is kept, each acting on its own ticks, and the middle is one of them.
    expect(phased.byPhase).toHaveLength(LIVE_TICK_SECONDS);
    expect(phased.byPhase.map((r) => r.summary)).toContain(phased.summary);
    phased.byPhase.forEach((run, phase) => {
      expect(run.actionSeconds.length).toBeGreaterThan(0);
      for (const t of run.actionSeconds) expect(t % LIVE_TICK_SECONDS).toBe(phase);
    });
  });

  it("converts the live engines' batch bound into profile units", () => {
    // Run O: 10x, rates x 7.83, a 1 s live trigger. The budget is the engine's 4 s, live.
    const bound = liveBatchBound({ rateScale: 7.83, speedup: 10, triggerMs: 1000 });
    expect(bound.budgetSeconds).toBe(40);
    expect(bound.initialRecords).toBeCloseTo((INITIAL_BATCH_RECORDS * 10) / 7.83, 6);
    expect(bound.minRecords).toBeCloseTo((MIN_BATCH_RECORDS * 10) / 7.83, 6);
    // A trigger longer than the 4 s budget is the budget, as batchTimeBudgetMs has it.
    expect(liveBatchBound({ rateScale: 1, speedup: 2, triggerMs: 5000 }).budgetSeconds).toBe(10);
    expect(() => liveBatchBound({ rateScale: 0, speedup: 10, triggerMs: 1000 })).toThrow(RangeError);
    expect(() => liveBatchBound({ rateScale: 1, speedup: 10, triggerMs: 0 })).toThrow(RangeError);
  });

  it("with the live engines' bound a step's catch-up batches run longer, as they did live", () => {
    const own = simulateAsLive(step, 'sluice');
    const live = simulateAsLive(
      step,
      'sluice',
      liveBatchBound({ rateScale: 1, speedup: 10, triggerMs: 1000 }),
    );
    expect(live.summary.maxBatchDurationSeconds).toBeGreaterThan(own.summary.maxBatchDurationSeconds);
    expect(live.summary.lostRecords).toBe(0);
  });
});
