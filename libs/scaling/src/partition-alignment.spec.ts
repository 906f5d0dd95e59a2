import { describe, expect, it } from 'vitest';
import { alignedInstanceCounts, busiestShare, effectiveInstances, isAligned } from './partition-alignment';

describe('partition alignment', () => {
  it('lists only counts that lower the busiest instance share', () => {
    expect(alignedInstanceCounts(48, 1, 48)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 48]);
    expect(alignedInstanceCounts(12, 1, 8)).toEqual([1, 2, 3, 4, 6]);
  });

  it('keeps a non-aligned minimum and respects the maximum', () => {
    expect(alignedInstanceCounts(48, 9, 20)).toEqual([9, 10, 12, 16]);
    expect(alignedInstanceCounts(4, 1, 10)).toEqual([1, 2, 4]);
  });

  it('values extra instances by what the busiest one still owns', () => {
    expect(busiestShare(48, 13)).toBe(4);
    expect(effectiveInstances(48, 13)).toBe(12);
    expect(effectiveInstances(48, 16)).toBe(16);
    expect(isAligned(48, 12)).toBe(true);
    expect(isAligned(48, 13)).toBe(false);
  });
});
