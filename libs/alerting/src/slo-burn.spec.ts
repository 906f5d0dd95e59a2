// Multi-window, multi-burn-rate alerts (Google SRE workbook, "Alerting on SLOs") on synthetic lag
// series sampled every 30 s. Objective: lag ≤ 60 s for 99 % of the time (budget 1 %).
import { describe, expect, it } from 'vitest';
import {
  burnRateAlertFires,
  burnRateFor,
  sloBurn,
  sortSamples,
  timeAboveObjective,
  WORKBOOK_BURN_RATE_ALERTS,
  type LagSample,
} from './index';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const NOW = 1_700_000_000_000;
const OBJECTIVE = { maxLagSeconds: 60, target: 0.99 };

/** Samples every 30 s over the last `spanMs`; `bad(ageMs)` says whether the sample taken
 * `ageMs` before now is above the objective. */
function series(bad: (ageMs: number) => boolean, spanMs = 7 * HOUR): LagSample[] {
  const out: LagSample[] = [];
  for (let age = spanMs; age > 0; age -= 30 * SEC) {
    out.push({ timestampMs: NOW - age, lagSeconds: bad(age) ? 600 : 5 });
  }
  return out;
}

const byName = (r: ReturnType<typeof sloBurn>, name: string) => r.alerts.find((a) => a.name === name)!;

describe('workbook thresholds', () => {
  it('14.4 is 2 % of a 30-day budget in 1 h, 6 is 5 % in 6 h', () => {
    expect(burnRateFor(0.02, HOUR)).toBeCloseTo(14.4, 10);
    expect(burnRateFor(0.05, 6 * HOUR)).toBeCloseTo(6, 10);
    expect(WORKBOOK_BURN_RATE_ALERTS).toEqual([
      { name: 'fast', longWindowMs: HOUR, shortWindowMs: 5 * MIN, burnRate: 14.4 },
      { name: 'slow', longWindowMs: 6 * HOUR, shortWindowMs: 30 * MIN, burnRate: 6 },
    ]);
  });
});

describe('sloBurn', () => {
  it('healthy series: burn rate 0 everywhere, nothing fires', () => {
    const r = sloBurn(
      series(() => false),
      OBJECTIVE,
      NOW,
    );
    expect(r.firing).toEqual([]);
    for (const a of r.alerts) {
      expect(a.long.burnRate).toBe(0);
      expect(a.short.burnRate).toBe(0);
    }
  });

  it('sharp spike (last 10 minutes above): fast fires, slow does not', () => {
    const r = sloBurn(
      series((age) => age <= 10 * MIN),
      OBJECTIVE,
      NOW,
    );
    const fast = byName(r, 'fast');
    expect(fast.long.badMs).toBe(10 * MIN);
    expect(fast.long.coveredMs).toBe(HOUR);
    expect(fast.long.burnRate).toBeCloseTo(10 / 60 / 0.01, 9); // 16.67 > 14.4
    expect(fast.short.burnRate).toBeCloseTo(100, 9); // the whole 5 m window is bad
    const slow = byName(r, 'slow');
    expect(slow.long.burnRate).toBeCloseTo(10 / 360 / 0.01, 9); // 2.78 < 6
    expect(r.firing).toEqual(['fast']);
  });

  it('long mild breach (1 minute in every 10 for 7 h): slow fires, fast does not', () => {
    const r = sloBurn(
      series((age) => Math.floor((age - 1) / MIN) % 10 === 0),
      OBJECTIVE,
      NOW,
    );
    const slow = byName(r, 'slow');
    expect(slow.long.burnRate).toBeCloseTo(10, 9); // 10 % of 6 h over a 1 % budget
    expect(slow.short.burnRate).toBeCloseTo(10, 9);
    const fast = byName(r, 'fast');
    expect(fast.long.burnRate).toBeCloseTo(10, 9); // < 14.4
    expect(r.firing).toEqual(['slow']);
  });

  it('short blip (2 minutes above, ended a minute ago): neither fires', () => {
    const r = sloBurn(
      series((age) => age > MIN && age <= 3 * MIN),
      OBJECTIVE,
      NOW,
    );
    expect(byName(r, 'fast').short.burnRate).toBeCloseTo(40, 9); // short window alone would fire…
    expect(byName(r, 'fast').long.burnRate).toBeCloseTo(2 / 60 / 0.01, 9); // …the 1 h window does not
    expect(byName(r, 'slow').short.burnRate).toBeCloseTo(2 / 30 / 0.01, 9); // 6.67 > 6, but
    expect(byName(r, 'slow').long.burnRate).toBeCloseTo(2 / 360 / 0.01, 9); // 0.56 over 6 h
    expect(r.firing).toEqual([]);
  });

  it('a breach that ended 10 minutes ago stops the fast alert through its short window', () => {
    const r = sloBurn(
      series((age) => age > 10 * MIN && age <= 25 * MIN),
      OBJECTIVE,
      NOW,
    );
    const fast = byName(r, 'fast');
    expect(fast.long.burnRate).toBeCloseTo(25, 9); // still above 14.4 over 1 h
    expect(fast.short.burnRate).toBe(0);
    expect(fast.firing).toBe(false);
  });

  it('lag exactly at the objective is within it (strictly above is bad)', () => {
    const samples = series(() => false).map((s) => ({ ...s, lagSeconds: 60 }));
    expect(sloBurn(samples, OBJECTIVE, NOW).alerts.every((a) => a.long.badMs === 0)).toBe(true);
  });

  it('order of samples does not matter', () => {
    const samples = series((age) => age <= 10 * MIN);
    const shuffled = [...samples].reverse();
    expect(sloBurn(shuffled, OBJECTIVE, NOW)).toEqual(sloBurn(samples, OBJECTIVE, NOW));
  });

  it('windows and rates are parameters', () => {
    const alerts = [{ name: 'ticket', longWindowMs: 3 * HOUR, shortWindowMs: 15 * MIN, burnRate: 1 }];
    const r = sloBurn(
      series((age) => age <= 20 * MIN),
      OBJECTIVE,
      NOW,
      { alerts },
    );
    expect(r.alerts[0]!.long.burnRate).toBeCloseTo(20 / 180 / 0.01, 9);
    expect(r.firing).toEqual(['ticket']);
  });

  it('a looser target lowers the burn rate for the same breach', () => {
    const samples = series((age) => age <= 10 * MIN);
    const r = sloBurn(samples, { maxLagSeconds: 60, target: 0.9 }, NOW);
    expect(byName(r, 'fast').long.burnRate).toBeCloseTo(10 / 60 / 0.1, 9);
    expect(r.firing).toEqual([]);
  });

  it('no samples: nothing covered, burn 0, nothing fires', () => {
    const r = sloBurn([], OBJECTIVE, NOW);
    expect(r.firing).toEqual([]);
    expect(byName(r, 'fast').long).toMatchObject({ coveredMs: 0, badFraction: 0, burnRate: 0 });
  });

  it('rejects targets outside (0, 1)', () => {
    expect(() => sloBurn([], { maxLagSeconds: 1, target: 1 }, NOW)).toThrow(RangeError);
    expect(() => sloBurn([], { maxLagSeconds: 1, target: 0 }, NOW)).toThrow(RangeError);
  });
});

describe('timeAboveObjective', () => {
  it('a gap longer than staleAfterMs is not covered', () => {
    const samples = [
      { timestampMs: NOW - 30 * MIN, lagSeconds: 100 },
      { timestampMs: NOW - 10 * MIN, lagSeconds: 0 },
    ];
    const share = timeAboveObjective(samples, 60, 30 * MIN, NOW, 5 * MIN);
    expect(share.coveredMs).toBe(10 * MIN); // 5 of the first sample, 5 of the second
    expect(share.badMs).toBe(5 * MIN);
    expect(share.badFraction).toBeCloseTo(0.5, 12);
  });

  it('a sample taken before the window start covers the start of the window', () => {
    const samples = [{ timestampMs: NOW - 7 * MIN, lagSeconds: 100 }];
    // Still fresh for the whole window: covers all of it.
    expect(timeAboveObjective(samples, 60, 5 * MIN, NOW, 10 * MIN)).toMatchObject({
      coveredMs: 5 * MIN,
      badMs: 5 * MIN,
    });
    // Stale 4 minutes after it was taken: covers only the window's first 2 minutes.
    expect(timeAboveObjective(samples, 60, 5 * MIN, NOW, 4 * MIN)).toMatchObject({
      coveredMs: 2 * MIN,
      badMs: 2 * MIN,
      badFraction: 1,
    });
  });

  it('a partly covered window is judged on the covered part', () => {
    const samples = series(() => true, 10 * MIN);
    const share = timeAboveObjective(samples, 60, HOUR, NOW);
    expect(share.coveredMs).toBe(10 * MIN);
    expect(share.badFraction).toBe(1);
  });

  it('samples at or after now are ignored', () => {
    const samples = [
      { timestampMs: NOW - MIN, lagSeconds: 0 },
      { timestampMs: NOW, lagSeconds: 100 },
      { timestampMs: NOW + MIN, lagSeconds: 100 },
    ];
    expect(timeAboveObjective(samples, 60, 5 * MIN, NOW)).toMatchObject({ coveredMs: MIN, badMs: 0 });
  });
});

describe('sortSamples', () => {
  it('returns samples already in order as they are and sorts the others into a copy', () => {
    const inOrder = [
      { timestampMs: 1, lagSeconds: 1 },
      { timestampMs: 2, lagSeconds: 5 },
    ];
    expect(sortSamples(inOrder)).toBe(inOrder);
    const shuffled = [inOrder[1]!, inOrder[0]!];
    const sorted = sortSamples(shuffled);
    expect(sorted).not.toBe(shuffled);
    expect(sorted.map((s) => s.timestampMs)).toEqual([1, 2]);
    expect(shuffled.map((s) => s.timestampMs)).toEqual([2, 1]);
  });
});

describe('timeAboveObjective over a long history', () => {
  // The window's first sample is found by binary search: every sample before it must add nothing,
  // so the result equals a walk over every sample (written out here as the definition).
  function walked(sorted: readonly LagSample[], max: number, windowMs: number, nowMs: number) {
    const from = nowMs - windowMs;
    let coveredMs = 0;
    let badMs = 0;
    for (let i = 0; i < sorted.length; i++) {
      const s = sorted[i]!;
      if (s.timestampMs >= nowMs) break;
      const next = sorted[i + 1];
      const until = Math.min(next ? next.timestampMs : nowMs, s.timestampMs + 5 * MIN, nowMs);
      const overlap = until - Math.max(s.timestampMs, from);
      if (overlap <= 0) continue;
      coveredMs += overlap;
      if (s.lagSeconds > max) badMs += overlap;
    }
    return { coveredMs, badMs };
  }

  it('equals a walk over every sample, with gaps, repeated timestamps and windows on sample times', () => {
    const samples: LagSample[] = [];
    let t = NOW - 7 * HOUR;
    for (let i = 0; t < NOW; i++) {
      samples.push({ timestampMs: t, lagSeconds: i % 7 < 2 ? 600 : 5 });
      if (i % 11 === 0) samples.push({ timestampMs: t, lagSeconds: 900 });
      t += i % 13 === 0 ? 8 * MIN : 40 * SEC;
    }
    const windows = [0, 30 * SEC, 5 * MIN, 30 * MIN, HOUR, 6 * HOUR, 8 * HOUR, NOW - samples[3]!.timestampMs];
    for (const windowMs of windows) {
      const got = timeAboveObjective(samples, 60, windowMs, NOW);
      expect({ coveredMs: got.coveredMs, badMs: got.badMs }).toEqual(walked(samples, 60, windowMs, NOW));
    }
    expect(timeAboveObjective([], 60, HOUR, NOW)).toMatchObject({ coveredMs: 0, badFraction: 0 });
    const one = [{ timestampMs: NOW - 2 * HOUR, lagSeconds: 600 }];
    expect(timeAboveObjective(one, 60, HOUR, NOW).coveredMs).toBe(walked(one, 60, HOUR, NOW).coveredMs);
  });
});

describe('burnRateAlertFires', () => {
  it('says what sloBurn reports as firing, for every workbook alert and series', () => {
    const shapes = [
      () => false,
      (age: number) => age <= 10 * MIN,
      (age: number) => Math.floor(age / MIN) % 10 === 0,
      (age: number) => age > 10 * MIN && age <= 12 * MIN,
      (age: number) => age <= 6 * HOUR,
    ];
    for (const bad of shapes) {
      const samples = series(bad);
      const full = sloBurn(samples, OBJECTIVE, NOW);
      for (const alert of WORKBOOK_BURN_RATE_ALERTS)
        expect(burnRateAlertFires(samples, OBJECTIVE, NOW, alert)).toBe(byName(full, alert.name).firing);
    }
    expect(() =>
      burnRateAlertFires([], { maxLagSeconds: 60, target: 1 }, NOW, WORKBOOK_BURN_RATE_ALERTS[0]!),
    ).toThrow(RangeError);
  });
});
