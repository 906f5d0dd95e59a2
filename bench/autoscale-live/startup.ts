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
import type { BatchCostFit } from './batch-cost';
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
  /** Those first batches (live rows and ms), one per new instance: what `coldFirstBatch` reads. */
  firstBatches: Array<{ rows: number; durationMs: number }>;
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
      const firstOfNew = new Map<string, { rows: number; durationMs: number }>();
      // The instances this scale-out added: the first to − from that read after it (a later
      // scale-out's instances are its own).
      for (const b of sorted) {
        if (firstOfNew.size >= a.to - a.from) break;
        if (b.liveMs >= a.liveMs && b.rows > 0 && !before.has(b.instance) && !firstOfNew.has(b.instance))
          firstOfNew.set(b.instance, { rows: b.rows, durationMs: b.durationMs });
      }
      const firstMs = [...firstOfNew.values()].map((f) => f.durationMs);
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
          firstMs.length === 0 ? null : +((Math.max(...firstMs) / 1000) * speedup).toFixed(1),
        firstBatches: [...firstOfNew.values()],
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

/** A new instance's first batch, from the live scale-outs (profile seconds). */
export interface ColdFirstBatch {
  /** The median duration of the new instances' first batches with rows. */
  seconds: number;
  /**
   * The median of what each ran over the calibration's fitted line for its rows (never below 0):
   * the cold engine's own cost, which the simulator adds to a new process's first batch.
   */
  extraSeconds: number;
}

/**
 * How the new instances' first batches ran against the fitted batch cost; null when none ran.
 * Why: a scale-out is online when those batches commit, and a cold engine under a CPU quota ran
 * them 2–3× slower than later batches of their size while the partitions they took waited. Priced
 * as start-up instead, the simulation kept those partitions read by the old instances meanwhile.
 */
export function coldFirstBatch(
  online: readonly ScaleOutOnline[],
  fit: BatchCostFit,
  speedup: number,
): ColdFirstBatch | null {
  const first = online.flatMap((o) => o.firstBatches);
  if (first.length === 0) return null;
  const seconds = median(first.map((f) => (f.durationMs / 1000) * speedup))!;
  const extra = median(
    first.map((f) =>
      Math.max(0, (f.durationMs / 1000 - fit.overheadSeconds - f.rows / fit.recordsPerSecond) * speedup),
    ),
  )!;
  return { seconds: +seconds.toFixed(1), extraSeconds: +extra.toFixed(1) };
}

/**
 * The profile whose new instances take `onlineSeconds` to read. The simulator charges the start-up,
 * then the rebalance pause, then the first batch, so the start-up is what is left after the pause
 * and, with `cold`, after the median first batch, whose extra over the fitted line becomes the
 * model's cold first batch (never negative).
 */
export function profileWithOnlineSeconds(
  profile: Profile,
  onlineSeconds: number,
  cold?: ColdFirstBatch | null,
): Profile {
  if (!(onlineSeconds >= 0)) throw new Error('onlineSeconds must be ≥ 0');
  return {
    ...profile,
    instance: {
      ...profile.instance,
      startupSeconds: Math.max(
        0,
        onlineSeconds - profile.instance.rebalancePauseSeconds - (cold?.seconds ?? 0),
      ),
    },
    ...(cold && { model: { ...profile.model, coldFirstBatchSeconds: cold.extraSeconds } }),
  };
}
