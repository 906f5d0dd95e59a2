import { describe, expect, it } from 'vitest';
import { OffsetTimeTable } from './offset-time-table';

describe('OffsetTimeTable', () => {
  it('interpolates between the samples that bracket the committed offset', () => {
    const t = new OffsetTimeTable();
    t.add(0, 0);
    t.add(1000, 10_000); // 100 records/s
    t.add(3000, 20_000); // 200 records/s
    expect(t.lagSeconds(3000, 25_000)).toBe(0);
    expect(t.lagSeconds(2000, 25_000)).toBeCloseTo(10); // end was at 2000 at t=15 s
    expect(t.lagSeconds(500, 25_000)).toBeCloseTo(20); // end was at 500 at t=5 s
  });

  it('extrapolates below the oldest sample along the oldest rate', () => {
    const t = new OffsetTimeTable();
    t.add(1000, 10_000);
    t.add(2000, 20_000);
    expect(t.lagSeconds(0, 20_000)).toBeCloseTo(20);
  });

  it('keeps the time an offset was first reached when the log stops growing', () => {
    const t = new OffsetTimeTable();
    t.add(0, 0);
    t.add(100, 1_000);
    t.add(100, 50_000); // idle producer: no new point
    expect(t.size).toBe(2);
    expect(t.lagSeconds(100, 60_000)).toBe(0);
    expect(t.lagSeconds(50, 60_000)).toBeCloseTo(59.5);
  });

  it('cannot tell with a single sample, and resets when offsets go backwards', () => {
    const t = new OffsetTimeTable();
    t.add(500, 1_000);
    expect(t.lagSeconds(100, 2_000)).toBeNull();
    expect(t.lagSeconds(500, 2_000)).toBe(0);
    t.add(600, 2_000);
    t.add(10, 3_000);
    expect(t.size).toBe(1);
  });

  it('is bounded in size', () => {
    const t = new OffsetTimeTable(3);
    for (let i = 1; i <= 10; i++) t.add(i * 10, i * 1000);
    expect(t.size).toBe(3);
  });
});
