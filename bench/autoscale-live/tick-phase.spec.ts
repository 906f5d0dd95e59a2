// Where the live loop's ticks fell against the profile's clock (tick-phase.ts).
import { describe, expect, it } from 'vitest';
import { nearestWholePhase, tickPhase } from './tick-phase';

describe('the live loop tick phase', () => {
  it('reads the phase of ticks every interval, with their drift as the spread', () => {
    // Run O's step: ticks 1 s live apart at 10x, drifting ~0.5 profile s over the run.
    const ticks = Array.from({ length: 240 }, (_, k) => 2.05 + k * 10 + (k / 240) * 0.5);
    const phase = tickPhase(ticks, 10);
    expect(phase?.ticks).toBe(240);
    expect(phase?.seconds).toBeGreaterThan(2.2);
    expect(phase?.seconds).toBeLessThan(2.4);
    expect(phase?.spreadSeconds).toBeGreaterThan(0.2);
    expect(phase?.spreadSeconds).toBeLessThan(0.3);
  });

  it('is circular: ticks either side of the interval boundary average near 0, not 5', () => {
    const phase = tickPhase([9.9, 19.9, 30.1, 40.1], 10);
    expect(Math.min(phase!.seconds, 10 - phase!.seconds)).toBeLessThan(0.01);
    expect(phase?.spreadSeconds).toBeCloseTo(0.1, 5);
  });

  it('reports the phase to the hundredth, without float noise, and 0 for a mean just under the interval', () => {
    expect(tickPhase([4.86, 14.86, 24.86], 10)?.seconds).toBe(4.86);
    expect(tickPhase([9.999, 19.999], 10)?.seconds).toBe(0);
  });

  it('has no phase without ticks and refuses a tick interval that is not positive', () => {
    expect(tickPhase([], 10)).toBeNull();
    expect(tickPhase([Number.NaN], 10)).toBeNull();
    expect(() => tickPhase([1], 0)).toThrow(RangeError);
  });

  it('maps a live phase to the nearest whole-second simulated phase, wrapping past the last', () => {
    expect(nearestWholePhase(8.41, 10)).toBe(8);
    expect(nearestWholePhase(3.55, 10)).toBe(4);
    expect(nearestWholePhase(9.6, 10)).toBe(0);
  });
});
