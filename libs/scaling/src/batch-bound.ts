// A bound on the records one task reads in a trigger while it catches up, sized so that a
// trigger lasts about BATCH_TIME_BUDGET_MS at the throughput the instance has shown.
//
// Why: without a bound a catch-up batch is the whole backlog. On a CPU-limited engine (a 0.1-core
// CFS quota) that is tens of seconds per batch, and a consumer-group rebalance in that time (an
// instance joining, which is exactly when an autoscaler adds capacity) moves partitions away
// mid-batch: the batch is fenced and re-run — as large, or larger with the input that arrived
// meanwhile — by the next owner, and the next join throws it away again. Kafka's consumer bounds
// the work between two polls the same way (max.poll.records, sized against max.poll.interval.ms:
// "reduce the maximum size of batches returned in poll() with max.poll.records", Kafka's
// CommitFailedException), and Spark's Kafka source bounds a trigger with maxOffsetsPerTrigger; the
// difference is that this bound is measured, not configured: the engine cannot know its own CPU
// quota or the machine's load. It only ever lowers a batch (the user's maxOffsetsPerTrigger and
// the autoscaler's rate limit still apply), and the write-ahead offset log makes any range safe.
//
// It lives here, not in the engine, so that the engine (query-runner, trigger-planner) and the
// autoscaling simulator (simulator/engine-group.ts) apply one and the same bound.

/** Wall-clock time one trigger's batches should take while catching up. */
export const BATCH_TIME_BUDGET_MS = 4000;

/**
 * The budget for a query whose processing-time trigger fires every `triggerIntervalMs` (0 = as
 * soon as the last trigger ended): never shorter than the interval. Why: the micro-batch loop waits
 * for the rest of the interval after a shorter trigger, so a 4 s bound under a 10 s trigger would
 * not shorten anything but throttle the instance to about 4 s of work every 10 s (a third of its
 * capacity once the per-trigger overhead is counted), in steady state as well as while catching up.
 * A batch as long as the interval delays no trigger that would otherwise have run.
 */
export function batchTimeBudgetMs(triggerIntervalMs: number): number {
  return Number.isFinite(triggerIntervalMs)
    ? Math.max(BATCH_TIME_BUDGET_MS, triggerIntervalMs)
    : BATCH_TIME_BUDGET_MS;
}
/** Never below this many records per task (a slow stack still makes progress in useful steps). */
export const MIN_BATCH_RECORDS = 500;
/**
 * Records of a whole trigger before anything was measured: about what a twentieth of a core did
 * in the budget on a loaded 2-core box (a 0.05-core engine took 29 s for 40,000 at load 25).
 */
export const INITIAL_BATCH_RECORDS = 5000;

export interface BoundInput {
  /** Records per second the instance processed (all its tasks together), or undefined. */
  recordsPerSecond: number | undefined;
  /** Tasks that share the trigger (they run concurrently on one event loop). */
  tasks: number;
  budgetMs: number;
  min: number;
  /** Upper bound (e.g. the shuffle stage's fixed cap); null = none. */
  max: number | null;
  /** Records of the whole trigger before any measurement. */
  initial: number;
}

/** Records one task may read this trigger. Pure. */
export function recordsPerTask(input: BoundInput): number {
  const tasks = Math.max(1, input.tasks);
  const total =
    input.recordsPerSecond === undefined ? input.initial : (input.recordsPerSecond * input.budgetMs) / 1000;
  const perTask = Math.max(input.min, Math.floor(total / tasks));
  return input.max === null ? perTask : Math.min(input.max, perTask);
}

/**
 * The instance's measured throughput: an exponentially weighted mean over triggers that read at
 * least `minSample` records (tiny triggers measure overheads, not throughput).
 */
export class ThroughputMeter {
  private rate: number | undefined;

  constructor(
    private readonly minSample = MIN_BATCH_RECORDS,
    private readonly weight = 0.5,
  ) {}

  observe(records: number, elapsedMs: number): void {
    if (records < this.minSample || elapsedMs <= 0) return;
    const r = (records * 1000) / elapsedMs;
    this.rate = this.rate === undefined ? r : this.weight * r + (1 - this.weight) * this.rate;
  }

  get recordsPerSecond(): number | undefined {
    return this.rate;
  }
}

/**
 * Spreads a trigger's bound over the source tasks that read in it: `perTask` (recordsPerTask)
 * times their number is a pool, and a task wanting less than its even part leaves the rest to the
 * others (max-min fair: every task gets min(wanted, level), the level set so the pool is used).
 * Why: the bound is about how long the instance's trigger takes, and tasks run concurrently, so a
 * hot partition on an instance whose other partitions are quiet may use what they leave (an even
 * split held it to its part while the trigger ended early: a 3× partition sharing an instance never
 * caught up). No task gets less than min(wanted, perTask), so this only ever raises the even split.
 */
export function shareBatchBound(wanted: readonly number[], perTask: number): number[] {
  if (!(perTask < Infinity)) return [...wanted];
  let pool = perTask * wanted.length;
  if (wanted.reduce((a, b) => a + b, 0) <= pool) return [...wanted];
  // Water-filling: serve the smallest wants first; whoever is left shares the rest evenly.
  const order = wanted.map((w, i) => i).sort((a, b) => (wanted[a] as number) - (wanted[b] as number));
  const out = new Array<number>(wanted.length).fill(0);
  let left = wanted.length;
  for (const i of order) {
    const fair = Math.floor(pool / left);
    const got = Math.min(wanted[i] as number, fair);
    out[i] = got;
    pool -= got;
    left--;
  }
  return out;
}
