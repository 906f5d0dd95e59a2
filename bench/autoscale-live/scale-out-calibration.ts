// A live scale-out's cost, measured before the profile runs: the calibration query (one CPU-limited
// engine, warm from the capacity drains) is scaled 1 → 2 under a steady load, a backlog produced
// with the decision and more load than one engine carries until the new one reads, and the time
// until both instances read, with the new one's first batch, is taken the way startup.ts reads the
// live run's own scale-outs. Then back to 1; TRIALS times. With room for more than two instances,
// as many trials scale 1 → the most instances, alternating with the 1 → 2s: a step's scale-out
// adds three instances at once, and it came online 25–40 profile s after the 1 → 2 trials in four
// of seven runs (K–Q, 2026-12-07), when the calibration knew only what one instance costs.
//
// Why: the calibrated simulations kept the profile's start-up (45 s) while a new engine under a
// 0.1-CPU quota came online after 37–82 profile seconds, with a first batch 2–5× the fitted line
// (BENCHMARKS 2026-12-06). Measured in the run itself, that start-up explained some runs, but as an
// explanation: its inputs came from the run it was compared with. Measured here, before the run,
// the simulation that uses it is a prediction.
import { COLD_BATCHES, INITIAL_BATCH_RECORDS } from '@sluice/scaling';
import { scaleOutsOnline, type LiveBatch, type ScaleOutOnline } from './startup';

export interface ScaleOutIo {
  /** Produces into the calibration query's source at `rate` records/s until stopped. */
  startLoad(rate: number): Promise<{ stop(): Promise<void> }>;
  /** Produces `records` into the source as fast as it can; resolves once they are produced. */
  produceBurst(records: number): Promise<void>;
  /** Asks for `instances` and waits until the operation is accepted (not until they run). */
  scale(instances: number): Promise<void>;
  /** Until exactly `instances` instances run and no operation is active. */
  waitInstances(instances: number, timeoutMs: number): Promise<void>;
  /** The query's batches that started at or after `sinceMs` (epoch ms), liveMs relative to it. */
  batchesSince(sinceMs: number): Promise<LiveBatch[]>;
}

export interface ScaleOutCalibration {
  /** Records/s of the steady load the trials ran under (LOAD_SHARE of the measured capacity). */
  rate: number;
  /** Records produced at once with each decision: the backlog a scale-out meets. */
  burstRecords: number;
  /**
   * One per trial, in profile seconds like the live run's (startup.ts); onlineSeconds null: timed
   * out. Each from 1, to 2 or to the most instances (`trialTargets`).
   */
  trials: ScaleOutOnline[];
}

/** Trials of each size; each costs ~20–30 live seconds. */
export const TRIALS = 3;

/** The instance count of each trial in order: 2, and (when more fit) the most, alternating. */
export function trialTargets(maxInstances: number, trials = TRIALS): number[] {
  const sizes = maxInstances > 2 ? [2, maxInstances] : [2];
  return Array.from({ length: trials }, () => sizes).flat();
}
/**
 * The load as a share of one engine's capacity: the live profiles start at 0.7 of an instance
 * (step-short, ramp-short), so the old instance is as busy as before the profile's first scale-out.
 */
export const LOAD_SHARE = 0.7;
/**
 * A scale-out is decided because the group fell behind, so each trial's decision comes with a
 * backlog: this many records a partition, produced at once. Without it the new instance's first
 * batch held what arrived while it joined (2,000–2,800 rows, 1.6–2.4 s live) where the live step's
 * new instances met a backlog and read their first batch's bound (3,300–5,000 rows, 4.3–5.5 s),
 * and the calibrated scale-out came online after 47 profile s against the step's 78–92
 * (BENCHMARKS.md, 2026-12-06 evening). The batch bound of a process that has measured nothing is
 * INITIAL_BATCH_RECORDS a task, so this fills every new instance's first batch.
 */
export const BURST_RECORDS_PER_PARTITION = INITIAL_BATCH_RECORDS;
/**
 * From the decision until the new instance has read, the load runs at this share of one engine's
 * capacity, so the group stays behind while the new instance starts, as it does after a live
 * step. With the burst alone the old instance had drained it seconds before the new one joined:
 * the trials' new instances read first batches of 1,155–2,955 rows in 0.3–1.1 s live, where the
 * live steps' read 5,000–7,699 rows in 1.4–2.5 s (runs M and N, 2026-12-07), and the trials
 * priced a step's scale-out low.
 */
export const OVERLOAD_SHARE = 1.5;
/** Live ms one instance reads the load before a trial's scale-out, and after its scale-in. */
export const SETTLE_MS = 8_000;
/**
 * How far back before the decision the batches are read, so the old instance is known as old. Less
 * than SETTLE_MS: an instance stopped by the last scale-in may come back under the same name, and
 * its batches must be out of the window.
 */
export const LOOKBACK_MS = 5_000;
/** A scale-out not online after this is recorded as never (onlineSeconds null). */
export const ONLINE_TIMEOUT_MS = 120_000;
/**
 * Once online, how long a trial keeps its overload for the new instances to run their cold batches
 * (COLD_BATCHES each, `coldBatches`): about one a trigger, so a few live seconds.
 */
export const COLD_BATCHES_TIMEOUT_MS = 15_000;
const POLL_MS = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One trial's reading: the 1 → `to` decision at `decisionLiveMs` among `batches` (liveMs from the
 * window's start), in profile seconds. Null until every instance has read.
 */
export function trialOnline(
  batches: readonly LiveBatch[],
  decisionLiveMs: number,
  speedup: number,
  to = 2,
): ScaleOutOnline | null {
  const [online] = scaleOutsOnline([{ liveMs: decisionLiveMs, from: 1, to }], batches, speedup);
  return online && online.onlineSeconds !== null ? online : null;
}

/** Whether every instance a trial added has run its COLD_BATCHES batches with rows. */
export function coldBatchesRun(reading: ScaleOutOnline): boolean {
  return (
    reading.coldBatches.length === reading.to - reading.from &&
    reading.coldBatches.every((own) => own.length >= COLD_BATCHES)
  );
}

export async function calibrateScaleOut(
  io: ScaleOutIo,
  o: { capacity: number; speedup: number; partitions: number; maxInstances: number; trials?: number },
  log: (m: string) => void,
): Promise<ScaleOutCalibration> {
  const rate = Math.max(1, Math.round(o.capacity * LOAD_SHARE));
  const burstRecords = BURST_RECORDS_PER_PARTITION * o.partitions;
  const trials: ScaleOutOnline[] = [];
  const load = await io.startLoad(rate);
  try {
    for (const [i, to] of trialTargets(o.maxInstances, o.trials).entries()) {
      await sleep(SETTLE_MS);
      // Started before the decision (a generator takes a moment to connect), which a decision
      // follows anyway: the group fell behind first.
      const overload = await io.startLoad(Math.round(o.capacity * (OVERLOAD_SHARE - LOAD_SHARE)));
      const decidedAt = Date.now();
      const windowStart = decidedAt - LOOKBACK_MS;
      let result: ScaleOutOnline | null = null;
      try {
        const burst = io.produceBurst(burstRecords);
        await io.scale(to);
        await burst;
        while (result === null && Date.now() - decidedAt < ONLINE_TIMEOUT_MS) {
          await sleep(POLL_MS);
          result = trialOnline(await io.batchesSince(windowStart), LOOKBACK_MS, o.speedup, to);
        }
        // Online is fixed now (the first batches' commits); the later reads only add the new
        // instances' next batches, still under the overload, as a step's catch-up runs them.
        const onlineAt = Date.now();
        while (
          result !== null &&
          !coldBatchesRun(result) &&
          Date.now() - onlineAt < COLD_BATCHES_TIMEOUT_MS
        ) {
          await sleep(POLL_MS);
          result = trialOnline(await io.batchesSince(windowStart), LOOKBACK_MS, o.speedup, to) ?? result;
        }
      } finally {
        await overload.stop();
      }
      const reading: ScaleOutOnline = result ?? {
        timeSeconds: (LOOKBACK_MS / 1000) * o.speedup,
        from: 1,
        to,
        onlineSeconds: null,
        after: null,
        firstBatchSeconds: null,
        firstBatches: [],
        coldBatches: [],
      };
      trials.push(reading);
      log(
        `scale-out ${i + 1}: 1 → ${to} at ${rate} records/s (${Math.round(o.capacity * OVERLOAD_SHARE)} until online) and ${burstRecords} at once, online after ${reading.onlineSeconds ?? 'never'} profile s` +
          (reading.firstBatches.length > 0
            ? `, the new instances' first batches ${reading.firstBatches.map((f) => `${f.rows} rows in ${f.durationMs} ms`).join(', ')} live`
            : '') +
          (reading.coldBatches.length > 0
            ? `; their cold batches ${reading.coldBatches.map((own) => own.map((b) => `${b.rows}/${b.durationMs}`).join(' ')).join(', ')} (rows/ms)`
            : ''),
      );
      await io.waitInstances(to, ONLINE_TIMEOUT_MS);
      await io.scale(1);
      await io.waitInstances(1, ONLINE_TIMEOUT_MS);
    }
  } finally {
    await load.stop();
  }
  return { rate, burstRecords, trials };
}
