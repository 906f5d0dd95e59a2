import { describe, expect, it } from 'vitest';
import { demandOutlook, trustedSlope } from './demand-outlook';
import { input, lagFollowing } from './test-support/inputs';

/** Twelve 30 s slices (six minutes), as the trend test sees them. */
function slices(rateAt: (i: number) => number): { x: number; y: number }[] {
  return Array.from({ length: 12 }, (_, i) => ({ x: i * 30, y: rateAt(i) }));
}

/** A fixed, small zig-zag standing for noise (±1 % of 9000). */
const zigzag = (i: number) => (i % 2 === 0 ? 90 : -90);

describe('trustedSlope', () => {
  it('trusts a steady descent downwards and reports no rise', () => {
    const descent = slices((i) => 9000 - 3 * 30 * i + zigzag(i) / 3);
    expect(trustedSlope(descent, -1)).toBeGreaterThan(2.5);
    expect(trustedSlope(descent, -1)).toBeLessThan(3.5);
    expect(trustedSlope(descent, 1)).toBe(0);
  });

  it('trusts a steady ramp upwards and reports no fall', () => {
    const ramp = slices((i) => 3000 + 3 * 30 * i + zigzag(i) / 3);
    expect(trustedSlope(ramp, 1)).toBeGreaterThan(2.5);
    expect(trustedSlope(ramp, -1)).toBe(0);
  });

  it('does not read a step down as a descent even when noise tilts the flat half the same way', () => {
    // 9000/s drifting down by noise for three minutes, then 2500/s: both halves fall, but the
    // older one at a small fraction of the newer one's pace.
    const step = slices((i) => (i < 8 ? 9000 - 6 * 30 * i : 2500));
    const older = step.slice(0, 6);
    expect(older[5]!.y).toBeLessThan(older[0]!.y);
    expect(trustedSlope(step, -1)).toBe(0);
  });

  it('does not read a step up as a ramp', () => {
    expect(
      trustedSlope(
        slices((i) => (i < 8 ? 2500 + 6 * 30 * i : 9000)),
        1,
      ),
    ).toBe(0);
  });

  it('reports nothing on a flat or short series', () => {
    expect(
      trustedSlope(
        slices((i) => 5000 + zigzag(i)),
        -1,
      ),
    ).toBe(0);
    expect(
      trustedSlope(
        slices((i) => 5000 + zigzag(i)),
        1,
      ),
    ).toBe(0);
    expect(trustedSlope(slices((i) => 9000 - 90 * i).slice(0, 5), -1)).toBe(0);
  });
});

describe('demandOutlook in compressed time', () => {
  // A ramp of 10 records/s per second over 400 s, and the same ramp played ten times faster
  // (the live bench's speedup): each profile second lasts 100 ms and carries the same records.
  const ramp = lagFollowing(0, 400, (s) => 1000 + 10 * s);
  const real = input({ nowMs: 400_000, currentInstances: 2, lag: ramp });
  const fast = input({
    nowMs: 40_000,
    currentInstances: 2,
    lag: ramp.map((l) => ({ ...l, timeMs: l.timeMs / 10 })),
  });

  it('sees the same ramp when its spans are scaled like the clock', () => {
    const a = demandOutlook(real);
    const b = demandOutlook(fast, 0.1);
    expect(a?.trend).toBeGreaterThan(8);
    // Rates are per live second (×10) and the slope per live second again (×100).
    expect(b?.now).toBeCloseTo((a?.now ?? 0) * 10, -1);
    expect(b?.trend).toBeCloseTo((a?.trend ?? 0) * 100, -1);
  });

  it('sees no ramp through unscaled spans, which cover ten times the profile', () => {
    expect(demandOutlook(fast)?.trend).toBe(0);
  });
});

describe('demandOutlook within the last tick', () => {
  // 3000/s until 8 s before the decision, 9000/s since: the tick (15 s) reads a blend.
  const lag = lagFollowing(0, 600, (s) => (s > 592 ? 9000 : 3000));

  it('reads the tick, the tick before it and the last third of the tick from reads a second apart', () => {
    const d = demandOutlook(input({ nowMs: 600_000, currentInstances: 2, lag }));
    expect(d?.now).toBeCloseTo((7 * 3000 + 8 * 9000) / 15, 6);
    expect(d?.previousTick).toBe(3000);
    expect(d?.recent).toBe(9000);
  });

  it('has no last third when the only reads are a tick apart, and no tick before when the window is one tick long', () => {
    const onTicks = lag.filter((l) => l.timeMs % 15_000 === 0);
    const d = demandOutlook(input({ nowMs: 600_000, currentInstances: 2, lag: onTicks }));
    expect(d?.recent).toBeUndefined();
    expect(d?.previousTick).toBe(3000);
    const short = demandOutlook(
      input({ nowMs: 600_000, currentInstances: 2, lag: lag.filter((l) => l.timeMs >= 590_000) }),
    );
    expect(short?.previousTick).toBeUndefined();
  });
});
