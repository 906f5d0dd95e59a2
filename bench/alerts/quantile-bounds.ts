// A sample's percentile with a distribution-free confidence interval from its order statistics.
//
// Why: bench:alerts compares the API's p99 while an evaluation runs with its p99 at idle. A 240 s
// run has ~75 "during" probes, and the p99 of 75 values is their maximum: one collection in one
// window decides it. The interval says how much a run's figure can say: with n values, the number
// of them below the true p-quantile is Binomial(n, p), so the k-th smallest value lies below the
// quantile with probability P(B ≥ k). The interval [x(r), x(s)] covers the quantile with
// probability P(r ≤ B < s); r and s are the ranks that leave at most (1 - confidence) / 2 in
// each tail. Where even the largest value is too low a rank (few values, a high quantile), the
// upper bound is unknown: `upper` is null, and no run that short can show the p99 is low.

export interface QuantileBounds {
  /** How many values the estimate rests on. */
  n: number;
  /** The sample quantile (`sortedQuantile`, as the bench's `pct`). */
  value: number;
  /** Lower and upper bounds of the interval; `upper` null when no rank is high enough. */
  lower: number | null;
  upper: number | null;
}

/** The `p`-th percentile (0–100) of values sorted ascending: the value at rank ceil(p·n). */
export function sortedQuantile(sorted: readonly number[], p: number): number {
  const n = sorted.length;
  return n === 0 ? NaN : sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]!;
}

/** P(B ≤ k) for k = 0..n, B ~ Binomial(n, p): the pmf by its ratio recurrence in log space (p near 1). */
export function binomialCdfs(n: number, p: number): number[] {
  const lr = Math.log(p) - Math.log1p(-p);
  let logPmf = n * Math.log1p(-p);
  const out: number[] = [];
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    if (k > 0) logPmf += Math.log(n - k + 1) - Math.log(k) + lr;
    sum += Math.exp(logPmf);
    out.push(Math.min(1, sum));
  }
  return out;
}

/**
 * The `p`-th percentile (0–100) of `xs` and its `confidence` interval (ranks r and s, 1-based:
 * r the largest with P(B < r) ≤ α/2, s the smallest with P(B ≥ s) ≤ α/2).
 */
export function quantileBounds(xs: readonly number[], p: number, confidence = 0.95): QuantileBounds {
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n, value: NaN, lower: null, upper: null };
  const q = p / 100;
  const tail = (1 - confidence) / 2;
  const value = sortedQuantile(sorted, p);
  // The CDF over k = 0..n once: cdf[k] = P(B ≤ k).
  const cdf = binomialCdfs(n, q);
  let r = 0;
  for (let k = 1; k <= n; k++) if (cdf[k - 1]! <= tail) r = k;
  let s = n + 1;
  for (let k = n; k >= 1; k--) if (1 - cdf[k - 1]! <= tail) s = k;
  return {
    n,
    value,
    lower: r >= 1 ? sorted[r - 1]! : null,
    upper: s <= n ? sorted[s - 1]! : null,
  };
}
