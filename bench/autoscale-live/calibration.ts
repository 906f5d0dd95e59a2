// Live instance capacity for the live autoscaling bench: what one CPU-limited engine sustains.
//
// Why not the batches' own `processedRowsPerSecond`: a batch's rate counts only the time inside
// the batch. With a 20,000-record backlog the engine ran two batches, the median of the "full"
// ones was the faster of the two (5,604 and 4,086 rows/s at 0.1 CPU), and the profiles scaled by
// it drove the engines 4–5× harder than they could go: trigger gaps, offset commits, fetches,
// garbage collection and the CFS quota's throttling between batches all cost wall time a batch's
// rate leaves out. So the capacity is measured the way the scaling loop meets it, as wall time:
//  1. warm-up: a small backlog is drained first (module loading, JIT, connections, first fetches);
//     its rough rate sizes the measured backlog;
//  2. a sustained backlog of ~TARGET_SECONDS of work at that rate is produced as fast as the
//     generator goes (far faster than one limited engine) and the capacity is
//     records ÷ (time from the start of production to the lag reaching 0); a drain shorter than
//     half the target is re-sized from its own rate and repeated (at most MAX_ROUNDS drains).
//  3. with the live trigger given: trigger-sized rounds (atTrigger) find the rate at which a batch
//     of one trigger's input fits the trigger; that is the capacity.
// The batch rates seen during step 2 are kept for the report (median), to show the gap.

import { fitBatchCost, type BatchCostFit } from './batch-cost';

export interface CalibrationIo {
  /** Starts producing `records` records into the calibration query's source topic. */
  produce(records: number): Promise<{ produced: () => number; stop: () => Promise<void> }>;
  /** Records the calibration query's group is behind (all partitions). */
  lag(): Promise<number>;
  /** Sets the calibration query's maxOffsetsPerTrigger (null: none) and waits until it applies. */
  setRateLimit(records: number | null): Promise<void>;
  /** The calibration query's newest batch progress, or null. */
  progress(): Promise<{
    batchId?: number;
    numInputRows?: number;
    processedRowsPerSecond?: number;
    /** The batch's wall time, ms. */
    batchDuration?: number;
  } | null>;
}

/** A batch the calibration saw: its id, rows, rate and (when reported) duration. */
interface SeenBatch {
  batchId: number;
  rows: number;
  rate: number;
  durationMs?: number;
}

export interface Calibration {
  /** Records/s of the sustained drain: the live instance capacity. */
  capacity: number;
  warmupRecords: number;
  warmupSeconds: number;
  records: number;
  drainSeconds: number;
  /** Median processedRowsPerSecond of the batches of the sustained drain (for comparison only). */
  medianBatchRate: number | null;
  batches: number;
  /** Records/s of the sustained drain (catch-up batches); `capacity` when no trigger rounds ran. */
  sustainedCapacity: number;
  /** Each trigger-sized round: its rate limit (records per batch) and the records/s drained. */
  triggerRounds: { rateLimit: number; records: number; drainSeconds: number; rate: number }[];
  /**
   * Fixed cost and per-record rate fitted on every batch after the warm-up (the catch-up batches
   * of the sustained drain and the small ones of the trigger rounds); null when the sizes did
   * not vary enough to separate them (batch-cost.ts).
   */
  batchCost: BatchCostFit | null;
}

export const WARMUP_RECORDS = 5_000;
/** Live seconds of work the sustained backlog is sized for. */
export const TARGET_SECONDS = 60;
export const MIN_RECORDS = 10_000;
/** Bounds the backlog (Kafka space, run time) whatever the warm-up suggested. */
export const MAX_RECORDS = 400_000;
/** A drain that takes longer than this fails the calibration rather than stalling the run. */
export const DRAIN_TIMEOUT_MS = 600_000;
const POLL_MS = 250;
/** Sustained drains at most (each re-sized from the last). */
export const MAX_ROUNDS = 3;
/** Trigger-sized rounds at most, and the live seconds of work each drains. */
export const MAX_TRIGGER_ROUNDS = 3;
export const TRIGGER_ROUND_SECONDS = 30;
/** A trigger round whose rate is within this fraction of its estimate has converged. */
export const CONVERGED = 0.9;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sustained backlog's size from the warm-up's rough rate, within the bounds. */
export function sustainedRecords(roughRate: number): number {
  if (!Number.isFinite(roughRate) || roughRate <= 0) return MIN_RECORDS;
  return Math.min(MAX_RECORDS, Math.max(MIN_RECORDS, Math.round(roughRate * TARGET_SECONDS)));
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Produces `records` and waits until every one is produced and the lag is 0; wall seconds. */
async function drain(
  io: CalibrationIo,
  records: number,
  onBatch: (b: SeenBatch) => void,
  log: (m: string) => void,
): Promise<number> {
  const start = Date.now();
  const gen = await io.produce(records);
  let lastLog = start;
  try {
    for (;;) {
      const [behind, p] = await Promise.all([io.lag(), io.progress()]);
      if (p?.batchId !== undefined && (p.numInputRows ?? 0) > 0)
        onBatch({
          batchId: p.batchId,
          rows: p.numInputRows ?? 0,
          rate: p.processedRowsPerSecond ?? 0,
          ...(p.batchDuration !== undefined ? { durationMs: p.batchDuration } : {}),
        });
      if (gen.produced() >= records && behind === 0) return (Date.now() - start) / 1000;
      if (Date.now() - start > DRAIN_TIMEOUT_MS)
        throw new Error(
          `calibration: ${records} records not drained within ${DRAIN_TIMEOUT_MS / 1000} s (${behind} behind)`,
        );
      if (Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        log(
          `${gen.produced()}/${records} produced, ${behind} behind after ${((lastLog - start) / 1000).toFixed(0)} s`,
        );
      }
      await sleep(POLL_MS);
    }
  } finally {
    await gen.stop();
  }
}

/**
 * The capacity at the live trigger: a sustained drain runs catch-up batches of several seconds,
 * which spread each batch's fixed cost over many records, while the live run's batches are one
 * trigger's input. So the backlog is drained again with the rate limit at (estimate × trigger)
 * records per batch: if a batch of that size fits the trigger, the drain rate is the estimate
 * (batches wait for the trigger) and it has converged; if not, batches run back to back, the
 * rate is lower, and it becomes the next estimate. The fixed point is the rate at which
 * trigger-sized batches just fit the trigger — the simulator's instance capacity.
 */
async function atTrigger(
  io: CalibrationIo,
  estimate: number,
  triggerSeconds: number,
  log: (m: string) => void,
  onBatch: (b: SeenBatch) => void,
): Promise<Calibration['triggerRounds']> {
  const rounds: Calibration['triggerRounds'] = [];
  let c = estimate;
  try {
    for (let k = 1; k <= MAX_TRIGGER_ROUNDS; k++) {
      const rateLimit = Math.max(1, Math.round(c * triggerSeconds));
      const records = Math.min(MAX_RECORDS, Math.max(MIN_RECORDS, Math.round(c * TRIGGER_ROUND_SECONDS)));
      await io.setRateLimit(rateLimit);
      const drainSeconds = await drain(io, records, onBatch, log);
      const rate = records / drainSeconds;
      rounds.push({ rateLimit, records, drainSeconds, rate });
      log(
        `trigger round ${k}: ${rateLimit} records per batch, ${records} records in ${drainSeconds.toFixed(1)} s = ${Math.round(rate)}/s (estimate ${Math.round(c)}/s)`,
      );
      if (rate >= CONVERGED * c) break;
      c = rate;
    }
  } finally {
    await io.setRateLimit(null);
  }
  return rounds;
}

export async function calibrateCapacity(
  io: CalibrationIo,
  log: (m: string) => void,
  triggerSeconds?: number,
): Promise<Calibration> {
  let lastWarmupBatch = -1;
  const warmupSeconds = await drain(io, WARMUP_RECORDS, (b) => (lastWarmupBatch = b.batchId), log);
  const rough = WARMUP_RECORDS / warmupSeconds;
  // The warm-up's small batches carry their fixed costs and underrate the engine, so a backlog
  // sized from it may drain in a few seconds: it is re-sized from each drain until one lasts at
  // least half the target (at most MAX_ROUNDS drains), and the last drain is the measurement.
  let records = sustainedRecords(rough);
  let drainSeconds = 0;
  const batches = new Map<number, SeenBatch>();
  // Every batch after the warm-up, by id (the poll sees a batch several times): the fit's points.
  const fitted = new Map<number, SeenBatch>();
  const seen = (b: SeenBatch): void => {
    if (b.batchId > lastWarmupBatch) fitted.set(b.batchId, b);
  };
  for (let round = 1; ; round++) {
    log(`sustained backlog ${records} records (round ${round})`);
    batches.clear();
    drainSeconds = await drain(
      io,
      records,
      (b) => {
        if (b.batchId > lastWarmupBatch) batches.set(b.batchId, b);
        seen(b);
      },
      log,
    );
    for (const id of batches.keys()) lastWarmupBatch = Math.max(lastWarmupBatch, id);
    const next = sustainedRecords(records / drainSeconds);
    if (drainSeconds >= TARGET_SECONDS / 2 || round >= MAX_ROUNDS || next <= records) break;
    log(`${records} records drained in ${drainSeconds.toFixed(1)} s: too short to be sustained`);
    records = next;
  }
  const sustainedCapacity = records / drainSeconds;
  const medianBatchRate = median([...batches.values()].map((b) => b.rate));
  log(
    `${records} records drained in ${drainSeconds.toFixed(1)} s = ${Math.round(sustainedCapacity)} records/s ` +
      `(median batch rate ${medianBatchRate === null ? '–' : Math.round(medianBatchRate)} rows/s over ${batches.size} batches)`,
  );
  const triggerRounds =
    triggerSeconds === undefined ? [] : await atTrigger(io, sustainedCapacity, triggerSeconds, log, seen);
  const capacity = triggerRounds.at(-1)?.rate ?? sustainedCapacity;
  const batchCost = fitBatchCost(
    [...fitted.values()].flatMap((b) =>
      b.durationMs !== undefined ? [{ rows: b.rows, durationMs: b.durationMs }] : [],
    ),
  );
  if (batchCost)
    log(
      `batch cost over ${batchCost.batches} batches of ${batchCost.minRows}–${batchCost.maxRows} rows: ` +
        `${batchCost.overheadSeconds.toFixed(3)} s + rows ÷ ${Math.round(batchCost.recordsPerSecond)}/s`,
    );
  else log(`batch cost: not identifiable from ${fitted.size} batches (sizes too alike or too few)`);
  return {
    capacity,
    sustainedCapacity,
    triggerRounds,
    warmupRecords: WARMUP_RECORDS,
    warmupSeconds,
    records,
    drainSeconds,
    medianBatchRate,
    batches: batches.size,
    batchCost,
  };
}
