import { describe, expect, it } from 'vitest';
import { trustedSlope } from './demand-outlook';

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
