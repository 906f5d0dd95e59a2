import { describe, expect, it } from 'vitest';
import {
  hotShares,
  partitionShares,
  partitionSharesByIndex,
  rangeBusiestShare,
  worstBusiestShare,
} from './partition-load';
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

  it("keeps each partition's share at its index", () => {
    expect(partitionSharesByIndex(lagWith([10, 30, 10, 50], 300), 120_000)).toEqual([0.1, 0.3, 0.1, 0.5]);
  });

  it('prices hot partitions where a range assignor puts them at counts that divide the partitions', () => {
    // 8 partitions, hot ones at 0 and 3 (3x): 12 units.
    const apart = partitionSharesByIndex(lagWith([3, 1, 1, 3, 1, 1, 1, 1], 300), 120_000) ?? [];
    // 4 instances own {0,1} {2,3} {4,5} {6,7}: no block holds both, 4 of 12 units.
    expect(rangeBusiestShare(apart, 4, 'range')).toBeCloseTo(4 / 12);
    // 2 instances own {0..3} {4..7}: both in the first block, 8 of 12 units.
    expect(rangeBusiestShare(apart, 2, 'range')).toBeCloseTo(8 / 12);
    // Hot ones at 0 and 1 share a block of 4 instances: the worst pairing, as it is.
    const paired = partitionSharesByIndex(lagWith([3, 3, 1, 1, 1, 1, 1, 1], 300), 120_000) ?? [];
    expect(rangeBusiestShare(paired, 4, 'range')).toBeCloseTo(0.5);
  });

  it('does not know the placement at counts that do not divide the partitions, or under another assignor', () => {
    const apart = partitionSharesByIndex(lagWith([3, 1, 1, 3, 1, 1, 1, 1], 300), 120_000) ?? [];
    expect(rangeBusiestShare(apart, 3, 'range')).toBeUndefined();
    expect(rangeBusiestShare(apart, 4, 'other')).toBeUndefined();
    expect(rangeBusiestShare(apart, 4, undefined)).toBeUndefined();
  });

  it('counts cold partitions at their average share in a range block', () => {
    const noisy = partitionSharesByIndex(lagWith([3, 1.2, 0.8, 3, 1, 1, 1, 1], 300), 120_000) ?? [];
    // Block {0,1}: the hot one plus an average cold one (the 1.2 is noise), 4 of 12 units.
    expect(rangeBusiestShare(noisy, 4, 'range')).toBeCloseTo(4 / 12);
  });
});
