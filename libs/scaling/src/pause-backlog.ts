// The backlog a rebalance leaves behind. While the group rebalances nothing is consumed, so every
// record produced during the pause is still in the topic afterwards and the lag jumps by the
// pause's length (eager rebalancing: ~10 s per membership change, and instances that start one by
// one change it once each). That lag says nothing about whether the group is big enough: it is a
// known amount, drained by the spare capacity the group has outside pauses. Reading it as missing
// capacity makes a policy scale up again, which pauses again (the slow-ramp over-scaling of issue
// 19). Only what a control plane observes is used: the progress samples' instance counts and batch
// times (a gap in the batches at a membership change is the pause), the lag, and the policy's own
// last action.
import { membershipPauseSeconds } from './restart-cost';
import type { LagSample, ProgressSample } from './types';

export interface PauseBacklogInput {
  /** Aggregated progress, oldest first. */
  samples: readonly ProgressSample[];
  /** When the policy last changed the instance count (ms): only pauses after it are its doing. */
  sinceMs: number;
  lag: LagSample;
  /** Produce rate now (records/s). */
  demand: number;
}

export interface PauseBacklog {
  /** Seconds consumption stopped at membership changes since the action, beyond the usual wait. */
  pausedSeconds: number;
  /** When the group last resumed consuming after such a change (ms). */
  resumedMs: number;
  /** Lag records the pauses explain: produced while nothing was consumed, at most the lag. */
  records: number;
  /** Seconds of lag those records stand for (at the current produce rate, at most the lag). */
  lagSeconds: number;
  /** Lag records the pauses do not explain. */
  unexplainedRecords: number;
}

/** The backlog left by the pauses since the policy's last action; undefined when none happened. */
export function pauseBacklog(input: PauseBacklogInput): PauseBacklog | undefined {
  const { samples, sinceMs, lag, demand } = input;
  if (!(demand >= 0) || !Number.isFinite(demand))
    throw new RangeError(`demand must be a finite number >= 0, got ${demand}`);
  let pausedSeconds = 0;
  let resumedMs: number | undefined;
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1] as ProgressSample;
    const next = samples[i] as ProgressSample;
    // A membership that began consuming before the action was not this action's doing.
    if (next.timeMs - next.batchDurationMs < sinceMs) continue;
    const gap = membershipPauseSeconds(prev, next);
    if (gap === undefined) continue;
    // Without the change the next batch would have started at the next trigger anyway: what
    // arrives in that wait is the usual in-flight lag, not backlog. The rest is the pause and the
    // batch it abandoned.
    const usualWait = Math.max(0, next.triggerMs - prev.batchDurationMs) / 1000;
    pausedSeconds += Math.max(0, gap - usualWait);
    resumedMs = next.timeMs - next.batchDurationMs;
  }
  if (resumedMs === undefined) return undefined;
  const lagRecords = Math.max(0, lag.records);
  const records = Math.min(lagRecords, demand * pausedSeconds);
  return {
    pausedSeconds,
    resumedMs,
    records,
    lagSeconds: Math.min(Math.max(0, lag.seconds), records / Math.max(demand, 1)),
    unexplainedRecords: lagRecords - records,
  };
}

export interface PauseDrain {
  /** Seconds from now until the pause backlog is drained by the spare capacity (Infinity without). */
  drainSeconds: number;
  /** Drained within the horizon of the group resuming: a bounded catch-up, not missing capacity. */
  drains: boolean;
}

/**
 * Whether the spare capacity (what the ready instances sustain, measured outside pauses, minus the
 * produce rate) drains the pause backlog within `horizonSeconds` of the group resuming.
 */
export function pauseDrain(
  backlog: PauseBacklog,
  at: { nowMs: number; demand: number; readyRate: number; horizonSeconds: number },
): PauseDrain {
  const { nowMs, demand, readyRate, horizonSeconds } = at;
  if (!(horizonSeconds > 0) || !Number.isFinite(horizonSeconds))
    throw new RangeError(`horizonSeconds must be a positive number, got ${horizonSeconds}`);
  if (!(readyRate >= 0)) throw new RangeError(`readyRate must be >= 0, got ${readyRate}`);
  const spare = readyRate - demand;
  const drainSeconds =
    backlog.records === 0 ? 0 : spare > 0 ? backlog.records / spare : Number.POSITIVE_INFINITY;
  const sinceResume = Math.max(0, (nowMs - backlog.resumedMs) / 1000);
  return { drainSeconds, drains: sinceResume + drainSeconds <= horizonSeconds };
}
