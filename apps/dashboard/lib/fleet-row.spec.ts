import { describe, expect, it } from 'vitest';
import { pushBounded, sortRows, sumRates, type FleetRow } from './fleet-row';

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

describe('sortRows', () => {
  const row = (name: string, input: number | null): FleetRow => ({
    id: name,
    name,
    phase: 'RUNNING',
    desiredState: 'RUNNING',
    version: 1,
    desiredInstances: 1,
    runningInstances: 1,
    rateLimit: null,
    inputRowsPerSecond: input,
    processedRowsPerSecond: input,
    lagRecords: null,
    lagSeconds: null,
    lagHistory: [],
    firingAlerts: null,
    lastProgressAt: null,
  });
  it('orders by name or by a figure, either way, with missing figures lowest', () => {
    const rows = [row('b', 5), row('a', null), row('c', 7)];
    expect(sortRows(rows, 'name', 1).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(sortRows(rows, 'input', -1).map((r) => r.name)).toEqual(['c', 'b', 'a']);
    expect(rows.map((r) => r.name)).toEqual(['b', 'a', 'c']); // the input is left as it was
  });
});
