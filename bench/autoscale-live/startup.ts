// How long a live scale-out takes to add capacity, measured from the engines' own batches, and the
// profile whose simulated instance starts that slowly.
//
// Why: the calibration measures an engine's throughput only, so the calibrated simulation kept the
// profile's start-up (e.g. 45 s) while an engine under a 0.1-CPU quota needs far longer to start,
// join the group and read its first batch — and at speedup 10 each live second is ten profile
// seconds. A scale-out counts as online when as many distinct instances as it asked for have each
// committed a non-empty batch after the decision: that is start-up plus the group's rebalance, the
// two costs the simulator charges before a new instance reads (engine-group.ts: `startupSeconds`,
// then every member pauses `rebalancePauseSeconds`).
import type { Profile } from '@sluice/scaling';
import { median } from './calibration';

export interface LiveScaleOut {
  /** Live ms since the load started. */
  liveMs: number;
  from: number;
  to: number;
}

export interface LiveBatch {
  /** Live ms since the load started (the batch's trigger time). */
  liveMs: number;
  /** How long the batch ran (its progress event's batchDuration): it committed at liveMs + this. */
  durationMs: number;
  instance: string;
  rows: number;
  /** The rate limit (records/s) the instance ran this batch under; null: none. */
  rateLimit: number | null;
}

export interface ScaleOutOnline {
  /** Profile seconds of the decision. */
  timeSeconds: number;
  from: number;
  to: number;
  /**
   * Profile seconds from the decision until `to` instances had each committed a batch with rows
   * (started after the decision); null: never in the run.
   */
  onlineSeconds: number | null;
  /**
   * What the group did in the AFTER_ONLINE_SECONDS (profile) once online: rows read per live second
   * (every instance; compare with `to` × the calibrated capacity) and the share of its non-empty
   * batches that ran under a rate limit (backpressure). Null when never online.
   */
  after: { rowsPerLiveSecond: number; rateLimitedShare: number } | null;
  /**
   * The longest first batch with rows (profile s) among the instances with no batch before the
   * decision (the new ones): a cold engine's warm-up. Null when none read in the run.
   */
  firstBatchSeconds: number | null;
}

/** The span after a scale-out came online over which the group's reading rate is taken. */
export const AFTER_ONLINE_SECONDS = 300;

/** Each scale-out's time to capacity, in profile seconds (live × speedup). `batches` in any order. */
export function scaleOutsOnline(
  actions: readonly LiveScaleOut[],
  batches: readonly LiveBatch[],
  speedup: number,
): ScaleOutOnline[] {
  const sorted = [...batches].sort((a, b) => a.liveMs - b.liveMs);
  // Capacity arrives when a batch commits, not when it starts: a cold engine under a small CPU
  // quota ran its first batch for 9–11 live seconds (about 100 profile seconds at speedup 10).
  const byCommit = [...batches].sort((a, b) => a.liveMs + a.durationMs - (b.liveMs + b.durationMs));
  return actions
    .filter((a) => a.to > a.from)
    .map((a) => {
      const seen = new Set<string>();
      let onlineMs: number | null = null;
      for (const b of byCommit) {
        if (b.liveMs < a.liveMs || b.rows <= 0) continue;
        seen.add(b.instance);
        if (seen.size >= a.to) {
          onlineMs = b.liveMs + b.durationMs - a.liveMs;
          break;
        }
      }
      const before = new Set(sorted.filter((b) => b.liveMs < a.liveMs).map((b) => b.instance));
      const firstOfNew = new Map<string, number>();
      for (const b of sorted)
        if (b.liveMs >= a.liveMs && b.rows > 0 && !before.has(b.instance) && !firstOfNew.has(b.instance))
          firstOfNew.set(b.instance, b.durationMs);
      return {
        timeSeconds: (a.liveMs / 1000) * speedup,
        from: a.from,
        to: a.to,
        onlineSeconds: onlineMs === null ? null : +((onlineMs / 1000) * speedup).toFixed(1),
        after:
          onlineMs === null
            ? null
            : groupAfter(sorted, a.liveMs + onlineMs, (AFTER_ONLINE_SECONDS / speedup) * 1000),
        firstBatchSeconds:
          firstOfNew.size === 0 ? null : +((Math.max(...firstOfNew.values()) / 1000) * speedup).toFixed(1),
      };
    });
}

/** Rows per live second and the rate-limited share of the batches in [fromMs, fromMs + spanMs). */
function groupAfter(
  sorted: readonly LiveBatch[],
  fromMs: number,
  spanMs: number,
): { rowsPerLiveSecond: number; rateLimitedShare: number } {
  let rows = 0;
  let batches = 0;
  let limited = 0;
  for (const b of sorted) {
    if (b.liveMs < fromMs || b.liveMs >= fromMs + spanMs || b.rows <= 0) continue;
    rows += b.rows;
    batches++;
    if (b.rateLimit !== null) limited++;
  }
  return {
    rowsPerLiveSecond: Math.round(rows / (spanMs / 1000)),
    rateLimitedShare: batches === 0 ? 0 : +(limited / batches).toFixed(2),
  };
}

/** The median of the scale-outs that came online, or null when none did. */
export function medianOnlineSeconds(online: readonly ScaleOutOnline[]): number | null {
  return median(online.map((o) => o.onlineSeconds).filter((s): s is number => s !== null));
}

/**
 * The profile whose new instances take `onlineSeconds` to read: the simulator charges the start-up
 * and then the rebalance pause, so the start-up is what is left after the pause (never negative).
 */
export function profileWithOnlineSeconds(profile: Profile, onlineSeconds: number): Profile {
  if (!(onlineSeconds >= 0)) throw new Error('onlineSeconds must be ≥ 0');
  return {
    ...profile,
    instance: {
      ...profile.instance,
      startupSeconds: Math.max(0, onlineSeconds - profile.instance.rebalancePauseSeconds),
    },
  };
}
