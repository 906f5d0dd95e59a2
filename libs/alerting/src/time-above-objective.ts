// Share of a time window during which lag was above the objective, from irregular samples.
//
// Samples are read as a step function: each value holds from its timestamp until the next sample
// (or `nowMs`), but never longer than `staleAfterMs`, so a gap in the data counts as unknown
// rather than as the last value repeated forever (the same idea as Prometheus' 5-minute lookback).
// The bad fraction is bad time over *covered* time, so a window that is only partly covered by
// data (a query deployed 20 minutes ago, a 1 h window) is judged on what is known.

export interface LagSample {
  readonly timestampMs: number;
  readonly lagSeconds: number;
}

export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

export interface WindowShare {
  readonly windowMs: number;
  /** Time inside the window covered by (non-stale) samples. */
  readonly coveredMs: number;
  /** Covered time during which lag was strictly above the objective. */
  readonly badMs: number;
  /** badMs / coveredMs; 0 when nothing is covered (no data is not evidence of a breach). */
  readonly badFraction: number;
}

/** Sorts once so callers may pass samples in any order; same-timestamp duplicates keep the last.
 * Samples already in order (what QueryHistory keeps) are returned as they are: the evaluator
 * calls this for every SLO rule of every query on every tick, and a copy + sort each time showed
 * in its profile. */
export function sortSamples(samples: readonly LagSample[]): readonly LagSample[] {
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.timestampMs < samples[i - 1]!.timestampMs)
      return [...samples].sort((a, b) => a.timestampMs - b.timestampMs);
  }
  return samples;
}

export function timeAboveObjective(
  sorted: readonly LagSample[],
  maxLagSeconds: number,
  windowMs: number,
  nowMs: number,
  staleAfterMs: number = DEFAULT_STALE_AFTER_MS,
): WindowShare {
  const from = nowMs - windowMs;
  let coveredMs = 0;
  let badMs = 0;
  for (let i = firstHolding(sorted, from); i < sorted.length; i++) {
    const sample = sorted[i]!;
    if (sample.timestampMs >= nowMs) break;
    const next = sorted[i + 1];
    const holdsUntil = Math.min(next ? next.timestampMs : nowMs, sample.timestampMs + staleAfterMs, nowMs);
    const overlap = holdsUntil - Math.max(sample.timestampMs, from);
    if (overlap <= 0) continue;
    coveredMs += overlap;
    if (sample.lagSeconds > maxLagSeconds) badMs += overlap;
  }
  return { windowMs, coveredMs, badMs, badFraction: coveredMs > 0 ? badMs / coveredMs : 0 };
}

/**
 * The first sample that can hold into a window starting at `from`: every earlier one is followed
 * by a sample at or before `from`, so it ends before the window does. The history keeps 6 hours of
 * samples for the slow SLO window while the short windows span 5 and 30 minutes, and every SLO
 * rule of every query asks every tick: a binary search instead of walking the hours before.
 */
function firstHolding(sorted: readonly LagSample[], from: number): number {
  let lo = 0;
  let hi = Math.max(0, sorted.length - 1);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid + 1]!.timestampMs > from) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
