// A live scale-out's time to capacity and the profile a simulation runs it on.
import { describe, expect, it } from 'vitest';
import { LIVE_PROFILES } from '../autoscale/live-compare';
import { loadProfile } from '../autoscale/run-matrix';
import {
  coldBatchesExtra,
  coldFirstBatch,
  medianOnlineSeconds,
  profileWithOnlineSeconds,
  profileWithStartup,
  scaleOutsOnline,
  startupBySize,
  type ScaleOutOnline,
} from './startup';

describe('live scale-out time to capacity', () => {
  it('counts a scale-out online once as many distinct instances as it asked for committed rows after it', () => {
    const batches = [
      { liveMs: 900, durationMs: 100, instance: 'q-0', rows: 10, rateLimit: null }, // started before
      { liveMs: 1_100, durationMs: 200, instance: 'q-0', rows: 10, rateLimit: null },
      { liveMs: 1_500, durationMs: 100, instance: 'q-1', rows: 0, rateLimit: null }, // empty: not capacity
      // q-1's first batch with rows starts at 2 s and commits at 4 s: online then, not at its start.
      { liveMs: 2_000, durationMs: 2_000, instance: 'q-1', rows: 5, rateLimit: 900 },
      { liveMs: 9_000, durationMs: 500, instance: 'q-2', rows: 3, rateLimit: null },
      { liveMs: 12_000, durationMs: 500, instance: 'q-3', rows: 8, rateLimit: 500 },
    ];
    const online = scaleOutsOnline(
      [
        { liveMs: 1_000, from: 1, to: 2 },
        { liveMs: 5_000, from: 2, to: 4 },
        { liveMs: 6_000, from: 4, to: 2 }, // scale-in: not a start-up
        { liveMs: 13_000, from: 2, to: 3 },
      ],
      batches.reverse(),
      10,
    );
    expect(online).toEqual([
      // Online at 4 s; the next 300 profile s = 30 live s start q-2's 3 and q-3's 8 rows (q-1's
      // batch started before the window), 1 of 2 batches limited.
      {
        timeSeconds: 10,
        from: 1,
        to: 2,
        onlineSeconds: 30,
        after: { rowsPerLiveSecond: Math.round(11 / 30), rateLimitedShare: 0.5 },
        // q-1 had only an empty batch before the decision: new; its first rows took 2 live s. The
        // later q-2 and q-3 are not this scale-out's (it added one instance).
        firstBatchSeconds: 20,
        firstBatches: [{ rows: 5, durationMs: 2_000 }],
        coldBatches: [[{ rows: 5, durationMs: 2_000 }]],
      },
      // Only q-2 and q-3 read after 5 s: two instances of four, never online in the run.
      // q-2 and q-3 are new to it: the longer of their first batches, 0.5 live s.
      {
        timeSeconds: 50,
        from: 2,
        to: 4,
        onlineSeconds: null,
        after: null,
        firstBatchSeconds: 5,
        firstBatches: [
          { rows: 3, durationMs: 500 },
          { rows: 8, durationMs: 500 },
        ],
        coldBatches: [[{ rows: 3, durationMs: 500 }], [{ rows: 8, durationMs: 500 }]],
      },
      // Every instance had read before 13 s, and none read after it.
      {
        timeSeconds: 130,
        from: 2,
        to: 3,
        onlineSeconds: null,
        after: null,
        firstBatchSeconds: null,
        firstBatches: [],
        coldBatches: [],
      },
    ]);
    expect(medianOnlineSeconds(online)).toBe(30);
    expect(medianOnlineSeconds([])).toBeNull();
  });

  it('credits each scale-out with the ordinals it added, whatever order they start in', () => {
    const b = (liveMs: number, instance: string, durationMs: number, processRowBatches: number) => ({
      liveMs,
      durationMs,
      instance,
      rows: 100 * processRowBatches,
      rateLimit: null,
      processRowBatches,
    });
    const online = scaleOutsOnline(
      [
        { liveMs: 1_000, from: 1, to: 2 },
        // Decided before q-1 read: q-2 and q-3 are its own, and q-2 reads first of the three.
        { liveMs: 2_000, from: 2, to: 4 },
      ],
      [
        b(0, 'q-0', 500, 7),
        b(3_000, 'q-0', 500, 8),
        b(4_000, 'q-2', 3_000, 1),
        b(5_000, 'q-3', 4_000, 1),
        b(6_000, 'q-1', 2_000, 1),
      ],
      10,
    );
    // 1 → 2: q-0 committed at 3.5 s, q-1 at 8 s; its first batch is q-1's, not q-2's.
    expect(online[0]).toMatchObject({ onlineSeconds: 70, firstBatches: [{ rows: 100, durationMs: 2_000 }] });
    // 2 → 4: the last of q-0…q-3 committed at 9 s (q-3).
    expect(online[1]).toMatchObject({
      onlineSeconds: 70,
      firstBatchSeconds: 40,
      firstBatches: [
        { rows: 100, durationMs: 3_000 },
        { rows: 100, durationMs: 4_000 },
      ],
    });
  });

  it('takes an ordinal a scale-in stopped and a scale-out brought back from its new process on', () => {
    const online = scaleOutsOnline(
      [
        { liveMs: 0, from: 2, to: 1 },
        { liveMs: 1_000, from: 1, to: 2 },
      ],
      [
        { liveMs: 500, durationMs: 300, instance: 'q-0', rows: 50, rateLimit: null, processRowBatches: 40 },
        { liveMs: 900, durationMs: 300, instance: 'q-1', rows: 50, rateLimit: null, processRowBatches: 30 },
        // The old q-1, still draining, commits one more batch after the decision.
        { liveMs: 1_100, durationMs: 400, instance: 'q-1', rows: 60, rateLimit: null, processRowBatches: 31 },
        { liveMs: 1_200, durationMs: 300, instance: 'q-0', rows: 50, rateLimit: null, processRowBatches: 41 },
        {
          liveMs: 4_000,
          durationMs: 2_500,
          instance: 'q-1',
          rows: 900,
          rateLimit: null,
          processRowBatches: 1,
        },
        { liveMs: 7_000, durationMs: 300, instance: 'q-1', rows: 40, rateLimit: null, processRowBatches: 2 },
      ],
      10,
    );
    // Online when the new q-1's first batch committed (6.5 s), not the old one's (1.5 s).
    expect(online).toHaveLength(1);
    expect(online[0]).toMatchObject({
      onlineSeconds: 55,
      firstBatchSeconds: 25,
      firstBatches: [{ rows: 900, durationMs: 2_500 }],
    });
  });

  it('gives the simulator the start-up left after its rebalance pause, never negative', () => {
    const p = loadProfile(LIVE_PROFILES[0]!);
    const pause = p.instance.rebalancePauseSeconds;
    expect(profileWithOnlineSeconds(p, pause + 120).instance.startupSeconds).toBe(120);
    expect(profileWithOnlineSeconds(p, pause / 2).instance.startupSeconds).toBe(0);
    expect(profileWithOnlineSeconds(p, 200).instance.capacity).toBe(p.instance.capacity);
    expect(() => profileWithOnlineSeconds(p, Number.NaN)).toThrow(/onlineSeconds/);
    // With the first batch measured: start-up before it, its extra a cold first batch.
    const cold = profileWithOnlineSeconds(p, pause + 120, { seconds: 40, extraSeconds: 25 });
    expect(cold.instance.startupSeconds).toBe(80);
    expect(cold.model?.coldFirstBatchSeconds).toBe(25);
    expect(
      profileWithOnlineSeconds(p, pause + 20, { seconds: 40, extraSeconds: 25 }).instance.startupSeconds,
    ).toBe(0);
  });

  it('starts new instances as the trials did: the start-up less the rebalance pause, per instance added, the cold extra', () => {
    const p = loadProfile(LIVE_PROFILES[0] ?? '');
    const pause = p.instance.rebalancePauseSeconds;
    const q = profileWithStartup(p, { oneStartupSeconds: pause + 60, perAddedSeconds: 12.5 }, 25);
    expect(q.instance.startupSeconds).toBe(60);
    expect(q.model).toMatchObject({ coldFirstBatchSeconds: 25, startupPerAddedSeconds: 12.5 });
    expect({ ...q.instance, startupSeconds: 0 }).toEqual({ ...p.instance, startupSeconds: 0 });
    expect(
      profileWithStartup(p, { oneStartupSeconds: pause / 2, perAddedSeconds: 0 }, 0).instance.startupSeconds,
    ).toBe(0);
    expect(() => profileWithStartup(p, { oneStartupSeconds: 60, perAddedSeconds: -1 }, 0)).toThrow(/≥ 0/);
    expect(() => profileWithStartup(p, { oneStartupSeconds: Number.NaN, perAddedSeconds: 0 }, 0)).toThrow(
      /≥ 0/,
    );
  });

  it('reads the trials by instances added: start-up before the first batch per size, and its growth per instance', () => {
    const trial = (
      to: number,
      onlineSeconds: number | null,
      firstBatchSeconds: number | null,
    ): ScaleOutOnline => ({
      timeSeconds: 50,
      from: 1,
      to,
      onlineSeconds,
      after: null,
      firstBatchSeconds,
      firstBatches: [],
      coldBatches: [],
    });
    // Run R's step calibration (2026-12-07): the 1 → 2s read larger first batches and came online
    // later, but started no later.
    const r = startupBySize([
      trial(2, 130.5, 48),
      trial(4, 86.6, 12.7),
      trial(2, 96.3, 20.5),
      trial(4, 82, 7.2),
      trial(2, 108.8, 36.9),
      trial(4, 69.4, 6.6),
      trial(4, null, null),
    ]);
    expect(r).toEqual({
      sizes: [
        { added: 1, onlineSeconds: 108.8, startupSeconds: 75.8, count: 3 },
        { added: 3, onlineSeconds: 82, startupSeconds: 73.9, count: 3 },
      ],
      oneStartupSeconds: 75.8,
      perAddedSeconds: 0,
      measuredPerAddedSeconds: -0.9,
    });
    // A larger scale-out that starts later: (100 − 70) ÷ 2 a further instance.
    expect(startupBySize([trial(2, 80, 10), trial(4, 105, 5)])).toMatchObject({
      oneStartupSeconds: 70,
      perAddedSeconds: 15,
      measuredPerAddedSeconds: 15,
    });
    // One size only: nothing per instance; no one-instance trial online: nothing at all.
    expect(startupBySize([trial(2, 70, null)])).toMatchObject({ oneStartupSeconds: 70, perAddedSeconds: 0 });
    expect(startupBySize([trial(4, 90, 10), trial(2, null, null)])).toBeNull();
  });

  it("reads the new instances' first batches against the fitted line: median duration and median extra, never negative", () => {
    const fit = { overheadSeconds: 0.2, recordsPerSecond: 10_000, batches: 9, minRows: 100, maxRows: 40_000 };
    const at = (firstBatches: Array<{ rows: number; durationMs: number }>) => ({
      timeSeconds: 0,
      from: 1,
      to: 2,
      onlineSeconds: 60,
      after: null,
      firstBatchSeconds: null,
      firstBatches,
      coldBatches: firstBatches.map((b) => [b]),
    });
    // Live 3.2 s for 10,000 rows: the line says 1.2 s, 2 s over; 1.0 s for 8,000: the line's 1.0 s.
    const cold = coldFirstBatch(
      [
        at([
          { rows: 10_000, durationMs: 3_200 },
          { rows: 8_000, durationMs: 1_000 },
        ]),
        at([{ rows: 20_000, durationMs: 4_700 }]),
      ],
      fit,
      10,
    );
    // Durations 10, 32, 47 profile s; extras 0, 20, 25.
    expect(cold).toEqual({ seconds: 32, extraSeconds: 20 });
    // Faster than the line: no negative extra.
    expect(coldFirstBatch([at([{ rows: 10_000, durationMs: 500 }])], fit, 10)).toEqual({
      seconds: 5,
      extraSeconds: 0,
    });
    expect(coldFirstBatch([at([])], fit, 10)).toBeNull();
  });

  it("sums each new process's cold batches over the line, the median over instances that ran them all", () => {
    const fit = { overheadSeconds: 0.2, recordsPerSecond: 10_000, batches: 9, minRows: 100, maxRows: 40_000 };
    // The line: 0.2 s + rows ÷ 10,000/s; profile s = live × 10.
    const batch = (rows: number, durationMs: number) => ({ rows, durationMs });
    const trial = (coldBatches: Array<Array<{ rows: number; durationMs: number }>>) => ({
      timeSeconds: 0,
      from: 1,
      to: 1 + coldBatches.length,
      onlineSeconds: 60,
      after: null,
      firstBatchSeconds: null,
      firstBatches: coldBatches.map((own) => own[0]!),
      coldBatches,
    });
    const extra = coldBatchesExtra(
      [
        // 1.2 s over the line, then 0.3 over, then 0.1 under: 1.4 live s, 14 profile s.
        trial([[batch(10_000, 2_400), batch(5_000, 1_000), batch(5_000, 600)]]),
        trial([
          // 0.5 + 0.5 + 0: 10 profile s.
          [batch(3_000, 1_000), batch(3_000, 1_000), batch(3_000, 500)],
          // Only two batches: not counted.
          [batch(3_000, 9_000), batch(3_000, 9_000)],
          // 2 + 0 + 0: 20.
          [batch(8_000, 3_000), batch(8_000, 1_000), batch(8_000, 1_000)],
        ]),
      ],
      fit,
      10,
    );
    expect(extra).toBe(14);
    // Faster than the line overall: 0, not negative; no instance with all its cold batches: null.
    expect(coldBatchesExtra([trial([[batch(1, 100), batch(1, 100), batch(1, 100)]])], fit, 10)).toBe(0);
    expect(coldBatchesExtra([trial([[batch(1, 100)]])], fit, 10)).toBeNull();
  });

  it("keeps a new process's first batches with rows, up to the cold ones, in order", () => {
    const b = (liveMs: number, rows: number, processRowBatches: number) => ({
      liveMs,
      durationMs: 100,
      instance: 'q-1',
      rows,
      rateLimit: null,
      processRowBatches,
    });
    const [online] = scaleOutsOnline(
      [{ liveMs: 1_000, from: 1, to: 2 }],
      [
        { liveMs: 1_500, durationMs: 100, instance: 'q-0', rows: 10, rateLimit: null },
        b(2_000, 5, 1),
        b(3_000, 0, 1), // empty: not a batch with rows
        b(4_000, 6, 2),
        b(5_000, 7, 3),
        b(6_000, 8, 4),
      ],
      10,
    );
    expect(online?.coldBatches).toEqual([
      [
        { rows: 5, durationMs: 100 },
        { rows: 6, durationMs: 100 },
        { rows: 7, durationMs: 100 },
      ],
    ]);
  });
});
