// The calibration's trials: their sizes, and reading one (a scale-out of the calibration query) from its batches.
import { describe, expect, it } from 'vitest';
import { coldBatchesRun, trialOnline, trialTargets } from './scale-out-calibration';

describe('a calibration scale-out trial', () => {
  const old = (liveMs: number) => ({
    liveMs,
    durationMs: 300,
    instance: 'calib-0',
    rows: 700,
    rateLimit: null,
  });

  it('is not online while only the old instance reads after the decision', () => {
    const batches = [old(1_000), old(2_000), old(5_500), old(6_500)];
    expect(trialOnline(batches, 5_000, 10)).toBeNull();
  });

  it('is online when the new instance commits its first batch with rows, and keeps that batch', () => {
    const batches = [
      old(1_000),
      old(4_000),
      old(5_500),
      // The new process: an empty batch while it joins, then 2,100 rows in 3.2 live s.
      { liveMs: 9_000, durationMs: 150, instance: 'calib-1', rows: 0, rateLimit: null },
      { liveMs: 10_000, durationMs: 3_200, instance: 'calib-1', rows: 2_100, rateLimit: null },
      old(10_500),
    ];
    const t = trialOnline(batches, 5_000, 10);
    // Decided at 5 s; the new instance's batch commits at 13.2 s: 8.2 live s, 82 profile s.
    expect(t?.onlineSeconds).toBe(82);
    expect(t?.firstBatches).toEqual([{ rows: 2_100, durationMs: 3_200 }]);
    expect(t?.firstBatchSeconds).toBe(32);
  });

  it('is online only when every instance of a 1 → 4 has committed a batch with rows', () => {
    const batch = (instance: string, liveMs: number, durationMs = 2_000) => ({
      liveMs,
      durationMs,
      instance,
      rows: 5_000,
      rateLimit: null,
    });
    const batches = [old(4_000), batch('calib-1', 9_000), batch('calib-3', 10_000), old(10_500)];
    expect(trialOnline(batches, 5_000, 10, 4)).toBeNull();
    // The last new instance commits at 14 s: 9 live s after the decision, 90 profile s.
    const t = trialOnline([...batches, batch('calib-2', 12_000)], 5_000, 10, 4);
    expect(t).toMatchObject({ from: 1, to: 4, onlineSeconds: 90, firstBatchSeconds: 20 });
    expect(t?.firstBatches).toHaveLength(3);
    // Online, but the new instances have run one batch each of their three cold ones.
    expect(coldBatchesRun(t!)).toBe(false);
    const more = ['calib-1', 'calib-2', 'calib-3'].flatMap((i) => [
      batch(i, 15_000, 900),
      batch(i, 16_000, 800),
    ]);
    const all = trialOnline([...batches, batch('calib-2', 12_000), ...more], 5_000, 10, 4);
    // The same online time; each new instance now has its three cold batches.
    expect(all).toMatchObject({ onlineSeconds: 90 });
    expect(all?.coldBatches.map((own) => own.map((b) => b.durationMs))).toEqual([
      [2_000, 900, 800],
      [2_000, 900, 800],
      [2_000, 900, 800],
    ]);
    expect(coldBatchesRun(all!)).toBe(true);
  });
});

describe('the calibration trial sizes', () => {
  it('alternates 1 → 2 with 1 → the most instances, three of each, and only 1 → 2 when two is the most', () => {
    expect(trialTargets(4)).toEqual([2, 4, 2, 4, 2, 4]);
    expect(trialTargets(3, 2)).toEqual([2, 3, 2, 3]);
    expect(trialTargets(2)).toEqual([2, 2, 2]);
  });
});
