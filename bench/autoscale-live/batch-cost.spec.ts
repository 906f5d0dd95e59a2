// The live engine's batch cost line and the profile a simulation runs it on.
import { describe, expect, it } from 'vitest';
import { fitBatchCost, profileWithBatchCost, triggerRoundsLine, type ObservedBatch } from './batch-cost';
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

describe('triggerRoundsLine', () => {
  const fit = { overheadSeconds: 0.014, recordsPerSecond: 12262, batches: 106, minRows: 44, maxRows: 73868 };

  it('makes a trigger-sized batch fill the trigger at the fitted per-record rate', () => {
    // Run Q's calibration (2026-12-07): trigger rounds 6,620/s, line 0.014 s + rows ÷ 12,262/s.
    const line = triggerRoundsLine(fit, 6620, 1);
    expect(line.recordsPerSecond).toBe(12262);
    expect(line.overheadSeconds).toBeCloseTo(1 - 6620 / 12262, 9);
    expect(line.overheadSeconds + 6620 / line.recordsPerSecond).toBeCloseTo(1, 9);
    expect({ ...line, overheadSeconds: 0 }).toEqual({ ...fit, overheadSeconds: 0 });
  });

  it('keeps the fitted overhead when the trigger rounds ran at least at the line', () => {
    expect(triggerRoundsLine(fit, 12262, 1).overheadSeconds).toBe(0.014);
    expect(triggerRoundsLine(fit, 20000, 1).overheadSeconds).toBe(0.014);
  });

  it('refuses a capacity or trigger that is not positive', () => {
    expect(() => triggerRoundsLine(fit, 0, 1)).toThrow(/triggerSizedCapacity/);
    expect(() => triggerRoundsLine(fit, 6620, Number.NaN)).toThrow(/triggerSeconds/);
  });
});
