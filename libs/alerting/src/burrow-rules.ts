// Burrow's per-partition rules as pure predicates over one evaluation window.
//
// Source: linkedin/Burrow core/internal/evaluator/caching.go (calculatePartitionStatus and its
// "Rule 1".."Rule 5" helpers) and the wiki page "Consumer Lag Evaluation Rules". Each predicate
// keeps Burrow's rule number in its comment so a reader can check it against the original; the
// order in which they are applied lives in `partitionStatus` (partition-status.ts).

/** One committed offset as Burrow stores it: the offset, when it was committed, and the lag
 * (log-end offset minus committed offset) observed when the commit was received. */
export interface OffsetCommit {
  readonly offset: number;
  readonly lag: number;
  readonly timestampMs: number;
}

/** Rule 1: if the lag was zero at any point in the window the consumer caught up during the
 * window, so it is not considered behind (OK). Returns true when that rule does NOT apply. */
export function lagAlwaysNonZero(window: readonly OffsetCommit[]): boolean {
  return window.every((commit) => commit.lag > 0);
}

/** Rule 2 (REWIND): the committed offset went backwards between two consecutive commits —
 * someone reset the group or the consumer re-read; Burrow treats this as the worst status. */
export function offsetsRewind(window: readonly OffsetCommit[]): boolean {
  for (let i = 1; i < window.length; i++) {
    if (window[i]!.offset < window[i - 1]!.offset) return true;
  }
  return false;
}

/** Rule 3 (STOP): the time since the last commit is strictly greater than the time the window
 * spans (last minus first commit). The window's own span is the yardstick, so no fixed commit
 * interval has to be configured; equal is not stopped (Burrow's comparison is strict). */
export function offsetsStopped(window: readonly OffsetCommit[], nowMs: number): boolean {
  const first = window[0]!.timestampMs;
  const last = window[window.length - 1]!.timestampMs;
  return nowMs - last > last - first;
}

/** Rule 4 (STALL): the consumer keeps committing but the offset never changes across the window
 * (only meaningful once rule 1 has established that there is lag). */
export function offsetsStalled(window: readonly OffsetCommit[]): boolean {
  for (let i = 1; i < window.length; i++) {
    if (window[i]!.offset !== window[i - 1]!.offset) return false;
  }
  return true;
}

/** Rule 5 (WARNING): the offsets advance but the lag never decreases between consecutive commits
 * anywhere in the window — the consumer is working but not keeping up. As in Burrow, a flat lag
 * counts ("fixed or increasing"); one decrease anywhere clears the rule. */
export function lagNotDecreasing(window: readonly OffsetCommit[]): boolean {
  for (let i = 1; i < window.length; i++) {
    if (window[i]!.lag < window[i - 1]!.lag) return false;
  }
  return true;
}

/** Burrow's guard on STOP (checkIfRecentLagZero, added for slow topics, Burrow PR #338): if any
 * recently observed log-end offset is at or below the last committed offset, the consumer was up to
 * date moments ago and a new message has simply not been committed yet, so STOP is held back. */
export function recentLagZero(
  window: readonly OffsetCommit[],
  recentLogEndOffsets: readonly number[],
): boolean {
  const lastOffset = window[window.length - 1]!.offset;
  return recentLogEndOffsets.some((logEnd) => logEnd <= lastOffset);
}
