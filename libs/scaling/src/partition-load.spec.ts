import { describe, expect, it } from 'vitest';
import { hotShares, partitionShares, worstBusiestShare } from './partition-load';
import type { LagSample } from './types';

/** Lag samples every second where partition p produces `rates[p]` records/s. */
function lagWith(rates: readonly number[], seconds: number): LagSample[] {
  return Array.from({ length: seconds + 1 }, (_, s) => ({
    timeMs: s * 1000,
    records: 0,
    seconds: 0,
    partitionEndOffsets: rates.map((r) => r * s),
  }));
}

describe('partition load', () => {
  it("measures each partition's share of the produce over the window, largest first", () => {
    const shares = partitionShares(lagWith([10, 30, 10, 50], 300), 120_000);
    expect(shares).toEqual([0.5, 0.3, 0.1, 0.1]);
  });

  it('has no shares without per-partition offsets, with one sample, or when nothing was produced', () => {
    expect(partitionShares([{ timeMs: 0, records: 0, seconds: 0 }], 120_000)).toBeUndefined();
    expect(partitionShares(lagWith([1, 1], 0), 120_000)).toBeUndefined();
    expect(partitionShares(lagWith([0, 0], 300), 120_000)).toBeUndefined();
  });

  it('puts as many hot partitions on the busiest instance as it owns partitions', () => {
    // 8 partitions, 2 hot at 3x: 12 units.
    const shares = partitionShares(lagWith([3, 1, 1, 3, 1, 1, 1, 1], 300), 120_000) ?? [];
    expect(hotShares(shares)).toHaveLength(2);
    // 4 instances own 2 partitions each: the worst pairing is both hot ones, 6 of 12 units.
    expect(worstBusiestShare(shares, 4)).toBeCloseTo(0.5);
    // 8 instances own one each: one hot partition, 3 of 12 units.
    expect(worstBusiestShare(shares, 8)).toBeCloseTo(0.25);
    // 2 instances own 4: both hot ones and two cold ones, 8 of 12 units.
    expect(worstBusiestShare(shares, 2)).toBeCloseTo(8 / 12);
  });

  it('counts partitions that differ only by noise at their average share', () => {
    const shares = partitionShares(lagWith([1.1, 0.9, 1, 1.05, 0.95, 1], 300), 120_000) ?? [];
    expect(hotShares(shares)).toEqual([]);
    expect(worstBusiestShare(shares, 3)).toBeCloseTo(2 / 6);
  });
});
