import { describe, expect, it } from 'vitest';
import { sumRates } from './live-rates';

describe('sumRates', () => {
  const ev = (instance: string | null, atMs: number, input: number) => ({
    instance,
    atMs,
    input,
    processed: input * 2,
  });
  const t = Date.parse('2026-01-01T00:00:00Z');

  it('sums the newest event of each instance', () => {
    expect(sumRates([ev('a', t, 10), ev('a', t + 1000, 20), ev('b', t + 500, 5)])).toEqual({
      input: 25,
      processed: 50,
      atMs: t + 1000,
    });
  });

  it('leaves out an instance gone quiet for longer than the stale bound', () => {
    expect(sumRates([ev('a', t + 60_000, 10), ev('b', t, 99)])).toEqual({
      input: 10,
      processed: 20,
      atMs: t + 60_000,
    });
  });

  it('treats events without an instance as one instance and missing rates as 0', () => {
    expect(sumRates([{ instance: null, atMs: t, input: null, processed: 3 }])).toEqual({
      input: 0,
      processed: 3,
      atMs: t,
    });
  });

  it('is null without progress', () => {
    expect(sumRates([])).toBeNull();
  });
});
