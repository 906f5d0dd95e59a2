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
//
// Which instances a scale-out added is read from their names: the control plane runs a query's
// instances as ordinals 0…n−1 (`<query>-<ordinal>`, runtime/instance-name.ts), so from → to adds
// ordinals from…to−1, whatever order they start in. Taking "the first new names to read" instead
// credited a 1 → 2's instance to a 2 → 4 decided before it read, and took an ordinal that a
// scale-in had stopped and a scale-out brought back for an old instance.
import { COLD_BATCHES, type Profile } from '@sluice/scaling';
import { parseInstanceName } from '../../apps/control-plane/src/runtime/instance-name';
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
  /**
   * The engine process's count of its batches with rows, this one included (`sluice.
   * processRowBatches`): 1 is a new process's first. Null or absent: not reported.
   */
  processRowBatches?: number | null;
  /** The engine's CPU and wall time of the round this batch ended (`sluice.roundCpuMs`, `roundWallMs`). */
  roundCpuMs?: number | null;
  roundWallMs?: number | null;
  /** The engine's work outside its trigger executions before this report (`sluice.outsideTriggerMs`). */
  outsideMs?: number | null;
}

export interface ScaleOutOnline {
  /** Profile seconds of the decision. */
  timeSeconds: number;
  from: number;
  to: number;
  /**
   * Profile seconds from the decision until each of the instances 0…to−1 had committed a batch
   * with rows (started after the decision; the added ones from their new process); null: never in
   * the run.
   */
  onlineSeconds: number | null;
  /**
   * What the group did in the AFTER_ONLINE_SECONDS (profile) once online: rows read per live second
   * (every instance; compare with `to` × the calibrated capacity) and the share of its non-empty
   * batches that ran under a rate limit (backpressure). Null when never online.
   */
  after: { rowsPerLiveSecond: number; rateLimitedShare: number } | null;
  /**
   * The longest first batch with rows (profile s) among the instances the scale-out added
   * (ordinals from…to−1): a cold engine's warm-up. Null when none read in the run.
   */
  firstBatchSeconds: number | null;
  /** Those first batches (live rows and ms), one per added instance: what `coldFirstBatch` reads. */
  firstBatches: Array<{ rows: number; durationMs: number }>;
  /**
   * Per added instance (in ordinal order), its new process's first batches with rows, up to
   * COLD_BATCHES (the batches the capacity model leaves out as cold): what `coldBatchesExtra` reads.
   */
  coldBatches: Array<Array<{ rows: number; durationMs: number }>>;
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
  return actions
    .filter((a) => a.to > a.from)
    .map((a) => {
      // Per ordinal below `to`: its batches with rows from the decision on, oldest first; for an
      // added one, from its new process's first batch (a process a scale-in was still draining
      // under that name may commit after the decision).
      const read = new Map<number, LiveBatch[]>();
      for (const b of sorted) {
        const ordinal = parseInstanceName(b.instance)?.ordinal;
        if (ordinal === undefined || ordinal >= a.to || b.liveMs < a.liveMs || b.rows <= 0) continue;
        const own = read.get(ordinal) ?? [];
        if (ordinal >= a.from && b.processRowBatches === 1) own.length = 0;
        own.push(b);
        read.set(ordinal, own);
      }
      // Capacity arrives when a batch commits, not when it starts: a cold engine under a small CPU
      // quota ran its first batch for 9–11 live seconds (about 100 profile seconds at speedup 10).
      const committed = (b: LiveBatch) => b.liveMs + b.durationMs;
      let onlineMs: number | null = null;
      if (read.size === a.to)
        onlineMs = Math.max(...[...read.values()].map((own) => Math.min(...own.map(committed)))) - a.liveMs;
      const ofNew = [...read.entries()]
        .filter(([ordinal]) => ordinal >= a.from)
        .sort(([x], [y]) => x - y)
        .map(([, own]) => own.map((b) => ({ rows: b.rows, durationMs: b.durationMs })));
      const firstOfNew = ofNew.map((own) => own[0]!);
      const firstMs = firstOfNew.map((f) => f.durationMs);
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
        firstBatches: firstOfNew,
        coldBatches: ofNew.map((own) => own.slice(0, COLD_BATCHES)),
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
 * What scale-outs cost by the number of instances they add (profile seconds), split as the
 * simulator charges it: the start-up before the first batch, then the first batch, which the
 * simulator sizes and prices itself (its rows from the batch bound and the partitions the instance
 * took, its cost from the line plus the cold extra).
 *
 * Why split: how long a scale-out takes to come online depends on how much each new instance's
 * first batch reads. In live run R (2026-12-07) the 1 → 2 trials' new instance took two
 * partitions of the backlog and read first batches of 5,000–12,111 rows in 2.0–4.8 live s, the
 * 1 → 4 trials' took one each and read 2,155–3,715 rows in 0.5–1.3 s: online after 96–131 against
 * 69–87 profile s, where the start-ups before those batches were 72–83 against 63–75.
 */
export interface StartupBySize {
  /**
   * Per number of instances added: the median time to online, the median start-up before the
   * first batch (each scale-out's time to online less its longest new first batch) and how many
   * came online.
   */
  sizes: Array<{ added: number; onlineSeconds: number; startupSeconds: number; count: number }>;
  /** The median start-up before the first batch of the scale-outs that added one instance. */
  oneStartupSeconds: number;
  /**
   * Extra start-up per instance added beyond the first, from the one-instance median to the
   * largest size's; never below 0 (a larger scale-out that started sooner is noise, not a
   * speed-up). 0 with one size only.
   */
  perAddedSeconds: number;
  /** The same before the floor at 0. */
  measuredPerAddedSeconds: number;
}

/** The scale-outs' cost by size; null when no one-instance scale-out came online. */
export function startupBySize(online: readonly ScaleOutOnline[]): StartupBySize | null {
  const byAdded = new Map<number, Array<{ online: number; startup: number }>>();
  for (const o of online) {
    if (o.onlineSeconds === null) continue;
    const added = o.to - o.from;
    const startup = Math.max(0, o.onlineSeconds - (o.firstBatchSeconds ?? 0));
    byAdded.set(added, [...(byAdded.get(added) ?? []), { online: o.onlineSeconds, startup }]);
  }
  const sizes = [...byAdded.entries()]
    .sort(([a], [b]) => a - b)
    .map(([added, xs]) => ({
      added,
      onlineSeconds: median(xs.map((x) => x.online))!,
      startupSeconds: +median(xs.map((x) => x.startup))!.toFixed(1),
      count: xs.length,
    }));
  const one = sizes.find((x) => x.added === 1);
  if (!one) return null;
  const largest = sizes[sizes.length - 1]!;
  const measured =
    largest.added > 1 ? (largest.startupSeconds - one.startupSeconds) / (largest.added - 1) : 0;
  return {
    sizes,
    oneStartupSeconds: one.startupSeconds,
    perAddedSeconds: +Math.max(0, measured).toFixed(1),
    measuredPerAddedSeconds: +measured.toFixed(1),
  };
}

/**
 * The profile whose new instances start as the calibration's did (StartupBySize): the start-up
 * before the first batch less the rebalance pause the simulator charges after it (never
 * negative), `perAddedSeconds` more for each instance a scale-out adds beyond the first, and
 * `coldExtraSeconds` on a new process's first batch.
 */
export function profileWithStartup(
  profile: Profile,
  bySize: Pick<StartupBySize, 'oneStartupSeconds' | 'perAddedSeconds'>,
  coldExtraSeconds: number,
): Profile {
  if (!(bySize.oneStartupSeconds >= 0) || !(bySize.perAddedSeconds >= 0) || !(coldExtraSeconds >= 0))
    throw new Error('start-up, per-instance start-up and cold extra must be ≥ 0');
  return {
    ...profile,
    instance: {
      ...profile.instance,
      startupSeconds: Math.max(0, bySize.oneStartupSeconds - profile.instance.rebalancePauseSeconds),
    },
    model: {
      ...profile.model,
      coldFirstBatchSeconds: coldExtraSeconds,
      startupPerAddedSeconds: bySize.perAddedSeconds,
    },
  };
}

/** How long a live batch ran over the fitted line for its rows, in profile seconds (may be < 0). */
function overLineSeconds(
  batch: { rows: number; durationMs: number },
  fit: BatchCostFit,
  speedup: number,
): number {
  return (batch.durationMs / 1000 - fit.overheadSeconds - batch.rows / fit.recordsPerSecond) * speedup;
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
  const extra = median(first.map((f) => Math.max(0, overLineSeconds(f, fit, speedup))))!;
  return { seconds: +seconds.toFixed(1), extraSeconds: +extra.toFixed(1) };
}

/**
 * What a new process's cold batches ran over the line, in profile seconds: for each added instance
 * that ran all COLD_BATCHES of them, the sum of each batch's time over the line for its rows; the
 * median of those sums, never below 0. Null when no added instance ran that many.
 *
 * Why: a cold engine's batches after its first ran slower too. At the steps of runs U, V and W
 * (2026-12-07) the new instances' second and third batches ran up to 7 profile s each over the
 * charged line, where later ones ran below it; the first three together ran 15–29 s over it, where
 * the trials' first batches alone gave 11–14 s. The simulator charges the sum on the first batch
 * (`coldFirstBatchSeconds`): the same delay before the instance has read what those batches read,
 * earlier within it.
 */
export function coldBatchesExtra(
  online: readonly ScaleOutOnline[],
  fit: BatchCostFit,
  speedup: number,
): number | null {
  const sums = online
    .flatMap((o) => o.coldBatches)
    .filter((own) => own.length >= COLD_BATCHES)
    .map((own) => own.reduce((n, b) => n + overLineSeconds(b, fit, speedup), 0));
  if (sums.length === 0) return null;
  return +Math.max(0, median(sums)!).toFixed(1);
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
