import { describe, expect, it } from 'vitest';
import { pushBounded, sumRates } from './fleet-row';

describe('sumRates', () => {
  it('sums the newest event of each instance and ignores instances gone quiet', () => {
    const ev = (instance: string, t: number, input: number) => ({
      timestamp: new Date(t).toISOString(),
      inputRowsPerSecond: input,
      processedRowsPerSecond: input * 2,
      sluice: { instance },
    });
    const t = Date.parse('2026-01-01T00:00:00Z');
    expect(sumRates([ev('a', t, 10), ev('a', t + 1000, 20), ev('b', t + 500, 5)])).toEqual({
      input: 25,
      processed: 50,
    });
    expect(sumRates([ev('a', t + 60_000, 10), ev('b', t, 99)])).toEqual({ input: 10, processed: 20 });
    expect(sumRates([])).toBeNull();
  });
});

describe('pushBounded', () => {
  it('keeps the newest values up to the bound', () => {
    expect(pushBounded([1, 2, 3], 4, 3)).toEqual([2, 3, 4]);
    expect(pushBounded([], 1, 3)).toEqual([1]);
  });
});
