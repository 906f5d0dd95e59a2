import { describe, expect, it } from 'vitest';
import { pushBounded, sortRows, withFigures, type FleetRow, type QueryLiveFigures } from './fleet-row';

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
    lagReadAt: null,
  });
  it('orders by name or by a figure, either way, with missing figures lowest', () => {
    const rows = [row('b', 5), row('a', null), row('c', 7)];
    expect(sortRows(rows, 'name', 1).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(sortRows(rows, 'input', -1).map((r) => r.name)).toEqual(['c', 'b', 'a']);
    expect(rows.map((r) => r.name)).toEqual(['b', 'a', 'c']); // the input is left as it was
  });
});

describe('withFigures', () => {
  const base: FleetRow = {
    id: 'q',
    name: 'q',
    phase: 'RUNNING',
    desiredState: 'RUNNING',
    version: 1,
    desiredInstances: 2,
    runningInstances: null,
    rateLimit: null,
    inputRowsPerSecond: null,
    processedRowsPerSecond: null,
    lagRecords: null,
    lagSeconds: null,
    lagHistory: [],
    firingAlerts: null,
    lastProgressAt: null,
    lagReadAt: null,
  };
  const figures = (over: Partial<QueryLiveFigures> = {}): QueryLiveFigures => ({
    id: 'q',
    runningInstances: 2,
    inputRowsPerSecond: 10,
    processedRowsPerSecond: 12,
    progressAt: '2026-01-01T00:00:04.000Z',
    lagRecords: 100,
    lagSeconds: 3,
    lagReadAt: '2026-01-01T00:00:05.000Z',
    firingAlerts: 1,
    ...over,
  });

  it('takes the figures and adds a sparkline sample per lag reading', () => {
    const a = withFigures(base, figures());
    expect(a).toMatchObject({
      runningInstances: 2,
      inputRowsPerSecond: 10,
      processedRowsPerSecond: 12,
      lagRecords: 100,
      lagSeconds: 3,
      firingAlerts: 1,
      lagHistory: [100],
    });
    // New rates, the same lag reading: no new sample.
    const b = withFigures(a, figures({ inputRowsPerSecond: 20 }));
    expect(b.inputRowsPerSecond).toBe(20);
    expect(b.lagHistory).toEqual([100]);
    const c = withFigures(b, figures({ lagRecords: 80, lagReadAt: '2026-01-01T00:00:10.000Z' }));
    expect(c.lagHistory).toEqual([100, 80]);
    expect(base.lagHistory).toEqual([]); // rows already published are never changed
  });

  it('returns the row itself when nothing changed', () => {
    const a = withFigures(base, figures());
    expect(withFigures(a, figures())).toBe(a);
  });

  it('shows rates of 0 for a query that does not run, and no lag once it is no longer read', () => {
    const running = withFigures(base, figures());
    const stopped = withFigures(
      { ...running, phase: 'STOPPED' },
      figures({ lagReadAt: null, lagRecords: null, lagSeconds: null }),
    );
    expect(stopped).toMatchObject({
      inputRowsPerSecond: 0,
      processedRowsPerSecond: 0,
      lagRecords: null,
      lagSeconds: null,
    });
    expect(stopped.lagHistory).toEqual([100]);
    const never = withFigures(
      { ...base, phase: 'STOPPED' },
      figures({ inputRowsPerSecond: null, processedRowsPerSecond: null }),
    );
    expect(never.inputRowsPerSecond).toBeNull();
  });
});
