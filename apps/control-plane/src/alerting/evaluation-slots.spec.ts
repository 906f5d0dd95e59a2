import { describe, expect, it } from 'vitest';
import { evaluationSlot, nextSlot, slotRun } from './evaluation-slots';

const T = 1_700_000_000_000; // a multiple of 10 s

describe('evaluation slots', () => {
  it('stamps a time with the latest multiple of the interval', () => {
    expect(evaluationSlot(T + 9_999, 10_000)).toBe(T);
    expect(evaluationSlot(T + 10_000, 10_000)).toBe(T + 10_000);
    expect(evaluationSlot(T + 10_001, 10_000)).toBe(T + 10_000);
    expect(evaluationSlot(1_250, 200)).toBe(1_200);
  });

  it('waits for the slot after now and after the last one run', () => {
    expect(nextSlot(undefined, T + 3_000, 10_000)).toBe(T + 10_000);
    expect(nextSlot(T, T + 2, 10_000)).toBe(T + 10_000);
    // The timer of T + 10 s fired 3 ms early by the wall clock: the next is still T + 20 s.
    expect(nextSlot(T + 10_000, T + 9_997, 10_000)).toBe(T + 20_000);
    // Run 15 s late: the slot already past is skipped.
    expect(nextSlot(T + 10_000, T + 25_000, 10_000)).toBe(T + 30_000);
  });

  it('stamps a run with its slot, early or late by less than an interval', () => {
    expect(slotRun(T + 10_000, T + 9_997, 10_000)).toBe(T + 10_000);
    expect(slotRun(T + 10_000, T + 10_004, 10_000)).toBe(T + 10_000);
    // More than an interval late: the slot it ran in.
    expect(slotRun(T + 10_000, T + 25_000, 10_000)).toBe(T + 20_000);
  });

  it('keeps evaluations whole intervals apart however their timers ran', () => {
    // Four timers that fired 3 ms late, then 1 ms early, on time, and 2 ms early: 29,995 ms
    // between the first and the last by their run times, so `for: 30s` measured that way waits
    // for a fifth; by their slots, exactly 30,000.
    const ran = [T + 3, T + 9_999, T + 20_000, T + 29_998];
    let last: number | undefined;
    const stamps: number[] = [];
    for (const now of ran) {
      const slot = last === undefined ? evaluationSlot(now, 10_000) : nextSlot(last, last, 10_000);
      last = slotRun(slot, now, 10_000);
      stamps.push(last);
    }
    expect(ran[3]! - ran[0]!).toBeLessThan(30_000);
    expect(stamps).toEqual([T, T + 10_000, T + 20_000, T + 30_000]);
  });
});
