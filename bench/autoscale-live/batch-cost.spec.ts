// The live engine's batch cost line and the profile a simulation runs it on.
import { describe, expect, it } from 'vitest';
import { chargedRounds, fitBatchCost, profileWithBatchCost, type ObservedBatch } from './batch-cost';
import { LIVE_PROFILES } from '../autoscale/live-compare';
import { loadProfile } from '../autoscale/run-matrix';

/** Batches on an exact line: `overhead` s + rows ÷ `rate`. */
const onLine = (overhead: number, rate: number, sizes: number[]): ObservedBatch[] =>
  sizes.map((rows) => ({ rows, durationMs: (overhead + rows / rate) * 1000 }));

describe('fitBatchCost', () => {
  it('recovers the overhead and the per-record rate of small and large batches', () => {
    const fit = fitBatchCost(onLine(0.3, 1750, [400, 450, 500, 6000, 7000, 7500]));
    expect(fit?.overheadSeconds).toBeCloseTo(0.3, 6);
    expect(fit?.recordsPerSecond).toBeCloseTo(1750, 3);
    expect(fit).toMatchObject({ batches: 6, minRows: 400, maxRows: 7500 });
  });

  it('refuses batches too alike in size or too few to separate the two terms', () => {
    expect(fitBatchCost(onLine(0.3, 1750, [1000, 1100, 1200, 1300, 2000]))).toBeNull();
    expect(fitBatchCost(onLine(0.3, 1750, [100, 5000, 9000]))).toBeNull();
    // Rows or durations that are not positive finite numbers are not points.
    expect(
      fitBatchCost([
        ...onLine(0.3, 1750, [100, 5000, 9000]),
        { rows: 0, durationMs: 10 },
        { rows: Number.NaN, durationMs: 10 },
        { rows: 200, durationMs: -1 },
      ]),
    ).toBeNull();
  });

  it('takes a negative intercept as no overhead and refits through the origin', () => {
    // Larger batches relatively dearer (a convex cost): the line's intercept falls below 0.
    const fit = fitBatchCost([
      { rows: 100, durationMs: 50 },
      { rows: 200, durationMs: 120 },
      { rows: 1000, durationMs: 900 },
      { rows: 2000, durationMs: 2000 },
    ]);
    expect(fit?.overheadSeconds).toBe(0);
    // Σxy / Σx² over (rows, seconds).
    const sxy = 100 * 0.05 + 200 * 0.12 + 1000 * 0.9 + 2000 * 2;
    const sxx = 100 ** 2 + 200 ** 2 + 1000 ** 2 + 2000 ** 2;
    expect(fit?.recordsPerSecond).toBeCloseTo(sxx / sxy, 6);
  });

  it('gives no fit when duration does not grow with rows', () => {
    expect(fitBatchCost(onLine(0.5, Number.POSITIVE_INFINITY, [100, 400, 2000, 8000]))).toBeNull();
  });
});

describe('profileWithBatchCost', () => {
  it('maps the live line into profile units: overhead × speedup, rate ÷ rateScale', () => {
    const profile = loadProfile(LIVE_PROFILES[0] ?? '');
    const fitted = profileWithBatchCost(
      profile,
      { overheadSeconds: 0.25, recordsPerSecond: 1750, batches: 10, minRows: 100, maxRows: 5000 },
      { rateScale: 1.25, speedup: 10 },
    );
    expect(fitted.instance.batchOverheadSeconds).toBeCloseTo(2.5, 9);
    expect(fitted.instance.capacity).toBeCloseTo(1400, 9);
    expect({ ...fitted.instance, capacity: 0, batchOverheadSeconds: 0 }).toEqual({
      ...profile.instance,
      capacity: 0,
      batchOverheadSeconds: 0,
    });
    expect(fitted.input).toEqual(profile.input);
    expect(() =>
      profileWithBatchCost(
        profile,
        { overheadSeconds: 0, recordsPerSecond: 1, batches: 4, minRows: 1, maxRows: 9 },
        {
          rateScale: 0,
          speedup: 10,
        },
      ),
    ).toThrow(/rateScale/);
  });
});

describe('chargedRounds', () => {
  const batch = (rows: number, durationMs: number, round: Record<string, number | null> = {}) => ({
    liveMs: 0,
    durationMs,
    instance: 'calib-0',
    rows,
    rateLimit: null,
    ...round,
  });

  it('charges a round as the live loop does: the batch and its outside work, at least its CPU over the quota', () => {
    const rounds = chargedRounds(
      [
        // 300 ms of batch, 57 ms of CPU in a 1,000 ms round at 0.1 CPU: 570 ms.
        batch(4_000, 300, { roundCpuMs: 57, roundWallMs: 1_000 }),
        // The CPU would charge more than the round's wall time: the wall time caps it.
        batch(9_000, 800, { roundCpuMs: 150, roundWallMs: 1_100 }),
        // The batch and its outside work over what the CPU takes of the quota.
        batch(20_000, 2_000, { roundCpuMs: 100, roundWallMs: 2_300, outsideMs: 120 }),
        // No round reported: the batch's own wall time.
        batch(1_000, 90),
      ],
      0.1,
    );
    expect(rounds).toEqual([
      { rows: 4_000, durationMs: 570 },
      { rows: 9_000, durationMs: 1_100 },
      { rows: 20_000, durationMs: 2_120 },
      { rows: 1_000, durationMs: 90 },
    ]);
  });

  it("leaves out batches without rows and a process's cold first batches, as the loop's model does", () => {
    const rounds = chargedRounds(
      [
        batch(0, 50, { roundCpuMs: 20, roundWallMs: 1_000 }),
        batch(5_000, 4_000, { processRowBatches: 1 }),
        batch(5_000, 2_000, { processRowBatches: 3 }),
        batch(5_000, 400, { processRowBatches: 4 }),
        batch(5_000, 450, { processRowBatches: null }),
      ],
      0.1,
    );
    expect(rounds.map((r) => r.durationMs)).toEqual([400, 450]);
  });
});
