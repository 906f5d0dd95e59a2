import { describe, expect, it } from 'vitest';
import type { LagSample, ProgressSample } from './types';
import { linearFit, produceRate, trueProcessingRate } from './window-stats';

const sample = (
  timeMs: number,
  numInputRows: number,
  batchDurationMs: number,
  instances = 1,
  busyMs?: number,
): ProgressSample => ({
  timeMs,
  numInputRows,
  batchDurationMs,
  instances,
  busyMs,
  triggerMs: 10_000,
  inputRowsPerSecond: 0,
  processedRowsPerSecond: 0,
});

describe('window stats', () => {
  it('takes the produce rate from end offsets when known', () => {
    const lag: LagSample[] = [
      { timeMs: 0, records: 0, seconds: 0, endOffsets: 1000 },
      { timeMs: 60_000, records: 500_000, seconds: 50, endOffsets: 301_000 },
    ];
    expect(produceRate([], lag, 60_000, 60_000)).toBe(5000);
  });

  it('otherwise adds lag growth to what was consumed', () => {
    const lag: LagSample[] = [
      { timeMs: 0, records: 10_000, seconds: 5 },
      { timeMs: 60_000, records: 70_000, seconds: 20 },
    ];
    const samples = [sample(30_000, 60_000, 9000), sample(50_000, 60_000, 9000)];
    expect(produceRate(samples, lag, 60_000, 60_000)).toBe(3000);
  });

  it('derives the true processing rate from busy time', () => {
    // Two instances, 10 000 rows in 8 s of busy time in total: 4 s each -> 2500 rows/s together.
    expect(trueProcessingRate([sample(1, 10_000, 5000, 2, 8000)])).toBe(2500);
  });

  it('fits a line with the slope error', () => {
    const fit = linearFit([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 })));
    expect(fit.slope).toBeCloseTo(2);
    expect(fit.intercept).toBeCloseTo(1);
    expect(fit.slopeError).toBeCloseTo(0);
  });
});
