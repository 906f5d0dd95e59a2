import { describe, expect, it } from 'vitest';
import { binomialCdfs, quantileBounds } from './quantile-bounds';

// 1..n shuffled: the k-th smallest value is k, so bounds read as ranks.
const ranks = (n: number) => Array.from({ length: n }, (_, i) => n - i);

describe('quantileBounds', () => {
  // The ranks below were computed exactly (Python's fractions.Fraction over math.comb).
  it('gives the p99 of 1,000 values its 95 % interval from ranks 983 and 997', () => {
    expect(quantileBounds(ranks(1000), 99)).toEqual({ n: 1000, value: 990, lower: 983, upper: 997 });
  });

  it('gives 600 values ranks 589 and 599', () => {
    expect(quantileBounds(ranks(600), 99)).toEqual({ n: 600, value: 594, lower: 589, upper: 599 });
  });

  it('leaves the upper bound unknown when the sample is too small (75 values: the p99 is the maximum)', () => {
    expect(quantileBounds(ranks(75), 99)).toEqual({ n: 75, value: 75, lower: 72, upper: null });
  });

  it('answers NaN and no bounds for no values', () => {
    expect(quantileBounds([], 99)).toEqual({ n: 0, value: NaN, lower: null, upper: null });
  });

  it('has a CDF that ends at 1 and matches a small case by hand', () => {
    const c = binomialCdfs(2, 0.5);
    expect(c[0]).toBeCloseTo(0.25, 12);
    expect(c[1]).toBeCloseTo(0.75, 12);
    expect(c[2]).toBeCloseTo(1, 12);
    expect(binomialCdfs(10_000, 0.99).at(-1)).toBeCloseTo(1, 9);
  });
});
