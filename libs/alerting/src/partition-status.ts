// Burrow's status of one partition over a sliding window of its last N offset commits.
// Source: linkedin/Burrow core/internal/evaluator/caching.go (evaluatePartitionStatus,
// calculatePartitionStatus) and the wiki "Consumer Lag Evaluation Rules".
import {
  lagAlwaysNonZero,
  lagNotDecreasing,
  offsetsRewind,
  offsetsStalled,
  offsetsStopped,
  recentLagZero,
  type OffsetCommit,
} from './burrow-rules';

/** Burrow's partition statuses, in Burrow's order of severity (protocol.StatusConstant:
 * OK < WARNING < ERROR < STOP < STALL < REWIND). ERROR is only ever a group-level summary. */
export type PartitionStatus = 'OK' | 'WARNING' | 'STOP' | 'STALL' | 'REWIND';

export const STATUS_SEVERITY: Readonly<Record<PartitionStatus, number>> = {
  OK: 1,
  WARNING: 2,
  STOP: 4,
  STALL: 5,
  REWIND: 6,
};

/** Burrow's default `intervals` (storage module): 10 commits, i.e. 10 minutes at a 60 s commit
 * interval. */
export const DEFAULT_WINDOW_SIZE = 10;

/**
 * Commits a window needs before any rule judges it. A deliberate departure from Burrow, which
 * evaluates a single commit: every rule but the first compares consecutive commits (REWIND, STALL,
 * WARNING) or measures the window's span (STOP), and one commit has neither, so each is vacuously
 * true — Burrow reports a consumer that has committed once with lag as STOP (now - last > 0 ms).
 * Here the history starts at the first evaluation that sees a query, so every newly deployed query
 * with a backlog paged as STOP on its first evaluation. A consumer that stops after one commit is
 * still caught: its lag keeps growing (timeLag) and queryHealth reports it stalled.
 */
export const MIN_COMMITS_TO_JUDGE = 2;

export interface PartitionInput {
  readonly topic: string;
  readonly partition: number;
  /** Offset commits of the group on this partition, oldest first; only the last `windowSize`
   * are used, as in Burrow's ring buffer. */
  readonly commits: readonly OffsetCommit[];
  /** The partition's current log-end offset. */
  readonly logEndOffset: number;
  /** Recently fetched log-end offsets (Burrow keeps `intervals` of them); optional. Used only by
   * the guard that holds STOP back when the consumer was caught up moments ago. */
  readonly recentLogEndOffsets?: readonly number[];
}

export interface WindowOptions {
  /** Number of commits in the sliding window (Burrow's `intervals`). */
  readonly windowSize?: number;
  /** Burrow's evaluator `minimum-complete`: partitions whose window is filled less than this
   * fraction are reported OK without evaluating the rules. Burrow's default is 0 (always evaluate). */
  readonly minimumComplete?: number;
}

export interface PartitionEvaluation {
  readonly topic: string;
  readonly partition: number;
  readonly status: PartitionStatus;
  /** Log-end offset minus the last committed offset, never negative; null with no commits. */
  readonly currentLag: number | null;
  /** Filled fraction of the window (Burrow's per-partition `complete`). */
  readonly complete: number;
  readonly start: OffsetCommit | null;
  readonly end: OffsetCommit | null;
}

export function partitionStatus(
  input: PartitionInput,
  nowMs: number,
  options: WindowOptions = {},
): PartitionEvaluation {
  const windowSize = options.windowSize ?? DEFAULT_WINDOW_SIZE;
  if (!Number.isInteger(windowSize) || windowSize < 1) {
    throw new RangeError(`windowSize must be a positive integer, got ${windowSize}`);
  }
  const minimumComplete = options.minimumComplete ?? 0;
  // Burrow's stored lag is clamped at zero (broker offsets are fetched on their own interval, so
  // the raw difference can be negative); clamp here too so callers can pass raw differences.
  // Copied only when a lag is negative: this runs for every partition of every query per evaluation.
  // The history keeps exactly the rules' largest window, so most calls need no slice at all.
  const commits = input.commits;
  const last = commits.length > windowSize ? commits.slice(-windowSize) : commits;
  let negative = false;
  for (let i = 0; i < last.length; i++) if (last[i]!.lag < 0) negative = true;
  const window = negative ? last.map((c) => ({ ...c, lag: Math.max(0, c.lag) })) : last;
  const complete = window.length / windowSize;
  const { topic, partition } = input;

  // No commits at all: Burrow cannot say anything and reports OK.
  if (window.length === 0) {
    return { topic, partition, complete, status: 'OK', currentLag: null, start: null, end: null };
  }
  const start = window[0]!;
  const end = window[window.length - 1]!;
  const currentLag = Math.max(0, input.logEndOffset - end.offset);
  // One object literal, no spreads: this runs for 16,000 partitions per evaluation at scale.
  const status =
    complete < minimumComplete || window.length < MIN_COMMITS_TO_JUDGE
      ? 'OK'
      : applyRules(window, currentLag, nowMs, input.recentLogEndOffsets ?? []);
  return { topic, partition, complete, status, currentLag, start, end };
}

// The order is Burrow's current one (caching.go after the fix for Burrow issue #290): a partition
// with no current lag is never in error; STOP is checked before rule 1 because an old zero-lag
// commit must not hide a consumer that stopped committing; then rule 1 short-circuits to OK, and
// the remaining checks run worst first, so REWIND beats STALL beats WARNING.
function applyRules(
  window: readonly OffsetCommit[],
  currentLag: number,
  nowMs: number,
  recentLogEndOffsets: readonly number[],
): PartitionStatus {
  if (currentLag === 0) return 'OK';
  if (offsetsStopped(window, nowMs) && !recentLagZero(window, recentLogEndOffsets)) return 'STOP';
  if (!lagAlwaysNonZero(window)) return 'OK';
  if (offsetsRewind(window)) return 'REWIND';
  if (offsetsStalled(window)) return 'STALL';
  if (lagNotDecreasing(window)) return 'WARNING';
  return 'OK';
}
