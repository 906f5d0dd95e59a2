// Reading one calibration trial (a 1 → 2 scale-out of the calibration query) from its batches.
import { describe, expect, it } from 'vitest';
import { trialOnline } from './scale-out-calibration';

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
});
