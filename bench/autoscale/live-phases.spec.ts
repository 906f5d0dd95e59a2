// The live comparison's simulation over every phase of the loop's ticks (live-phases.ts).
import { describe, expect, it } from 'vitest';
import { stepFixture } from '@sluice/scaling';
import { LIVE_TICK_SECONDS, middleOverPhases, simulateAsLive } from './live-phases';
import { summaryWith } from './summary-fixture';

/** A run with its violation seconds, and instance·s tied to them to tell whole runs apart. */
const summary = (sloViolationSeconds: number) =>
  summaryWith({
    sloViolationSeconds,
    instanceSeconds: sloViolationSeconds * 10,
    scaleActions: 1,
    actionsToConverge: 1,
  });

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
    const step = stepFixture(
      'phase-step',
      { from: 1500, to: 6000, atSeconds: 300, durationSeconds: 900 },
      { seed: 3, capacityJitter: 0.05 },
    );
    const phased = simulateAsLive(step, 'sluice');
    const [least, most] = phased.violationRange;
    expect(LIVE_TICK_SECONDS).toBe(10);
    expect(most).toBeGreaterThan(least);
    expect(phased.summary.scaleActions).toBeGreaterThan(0);
    expect(phased.summary.lostRecords).toBe(0);
    expect(least).toBeLessThanOrEqual(phased.summary.sloViolationSeconds);
    expect(phased.summary.sloViolationSeconds).toBeLessThanOrEqual(most);
  });
});
