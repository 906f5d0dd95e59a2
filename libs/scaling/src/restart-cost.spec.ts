// What a rescale costs: start-up to ready, and the time until the new processes have read.
import { describe, expect, it } from 'vitest';
import { RestartCost } from './restart-cost';
import type { ProgressSample } from './types';

const sample = (timeMs: number, firstBatches?: number): ProgressSample => ({
  timeMs,
  inputRowsPerSecond: 100,
  processedRowsPerSecond: 200,
  batchDurationMs: 500,
  numInputRows: 100,
  triggerMs: 1000,
  instances: 2,
  ...(firstBatches !== undefined && { minProcessRowBatches: firstBatches > 0 ? 1 : 5, firstBatches }),
});

describe('RestartCost', () => {
  it('without first-batch counts the arrival is the start-up, as before', () => {
    const cost = new RestartCost(60, 15);
    cost.observe(0, 1, 1, undefined, []);
    // The policy scales 1 -> 2 at 1 s; the new instance is RUNNING at 11 s.
    cost.observe(2_000, 2, 1, 1_000, [sample(1_500)]);
    expect(cost.remainingArrival(6_000)).toBe(55);
    cost.observe(11_000, 2, 2, 1_000, [sample(10_500)]);
    expect(cost.startupSeconds).toBe(35); // 60 blended with 10
    expect(cost.onlineSeconds).toBeUndefined();
    expect(cost.arrivalSeconds).toBe(35);
    expect(cost.remainingArrival(12_000)).toBe(0);
  });

  it("measures a scale-out until its new processes' first batches committed, and leads by it beyond the start-up", () => {
    const cost = new RestartCost(4, 1);
    cost.observe(0, 2, 2, undefined, [sample(0, 0)]);
    // 2 -> 4 decided at 1 s; both RUNNING at 5 s (start-up 4 s).
    cost.observe(2_000, 4, 2, 1_000, [sample(1_800, 0)]);
    cost.observe(5_000, 4, 4, 1_000, [sample(1_800, 0), sample(4_900, 0)]);
    expect(cost.startupSeconds).toBe(4);
    expect(cost.onlineSeconds).toBeUndefined();
    // One new process read at 7 s, the other at 9.5 s: online 8.5 s after the decision.
    cost.observe(8_000, 4, 4, 1_000, [sample(4_900, 0), sample(7_000, 1)]);
    expect(cost.onlineSeconds).toBeUndefined();
    cost.observe(10_000, 4, 4, 1_000, [sample(4_900, 0), sample(7_000, 1), sample(9_500, 1)]);
    expect(cost.onlineSeconds).toBe(8.5);
    // Its pause apart (1 s, charged on its own), new instances read 7.5 s after a decision.
    expect(cost.arrivalSeconds).toBe(7.5);
    // Measured once: later samples do not count again.
    cost.observe(11_000, 4, 4, 1_000, [sample(7_000, 1), sample(9_500, 1), sample(10_500, 0)]);
    expect(cost.onlineSeconds).toBe(8.5);
    // The next scale-out, 4 -> 6 at 20 s, online at 24 s, is blended in: (8.5 + 4) / 2.
    cost.observe(21_000, 6, 4, 20_000, [sample(20_500, 0)]);
    expect(cost.remainingArrival(22_000)).toBeCloseTo(5.5, 9);
    cost.observe(25_000, 6, 6, 20_000, [sample(20_500, 0), sample(24_000, 2)]);
    expect(cost.onlineSeconds).toBe(6.25);
  });

  it("drops two overlapping scale-outs, and times an operator's scale from when it was seen", () => {
    const cost = new RestartCost(4, 1);
    cost.observe(0, 1, 1, undefined, []);
    cost.observe(2_000, 2, 1, 1_000, []);
    // A second scale-out before the first one's process read: neither is measured.
    cost.observe(4_000, 4, 2, 3_000, []);
    cost.observe(9_000, 4, 4, 3_000, [sample(6_000, 1), sample(8_000, 2)]);
    expect(cost.onlineSeconds).toBeUndefined();
    // 4 -> 5 by an operator at ~20 s: the policy's last action (3 s) is older than the last look.
    cost.observe(20_000, 5, 4, 3_000, []);
    cost.observe(24_000, 5, 5, 3_000, [sample(23_000, 1)]);
    expect(cost.onlineSeconds).toBe(3);
    // A scale-in is not a start-up.
    cost.observe(30_000, 3, 3, 29_000, [sample(31_000, 1)]);
    expect(cost.onlineSeconds).toBe(3);
  });
});
