// Engine instances consuming the topic as one Kafka consumer group. Each ready instance runs its own
// micro-batch loop on the partitions assigned to it: at every trigger (multiples of the trigger
// interval, or at once after an overrunning batch) it reads what is available, capped by its share
// of the rate limit, and commits when the batch ends. A change of membership rebalances the group:
// in-flight batches are abandoned (their records stay uncommitted and are read again) and every
// instance stops consuming for the rebalance pause. Like the engine, an instance bounds each
// partition's batch by the throughput it has measured itself (batch-bound.ts: about one trigger
// interval of work, at least 4 s).
import type { KafkaTopic } from './kafka-topic';
import { jitterFactor, type Random } from './prng';
import { instanceReadShare } from '../read-share';
import {
  INITIAL_BATCH_RECORDS,
  MIN_BATCH_RECORDS,
  ThroughputMeter,
  batchTimeBudgetMs,
  recordsPerTask,
  shareBatchBound,
} from '../batch-bound';

export interface EngineSpec {
  capacity: number;
  startupSeconds: number;
  rebalancePauseSeconds: number;
  batchOverheadSeconds: number;
  triggerSeconds: number;
  capacityJitter: number;
  instanceSkew: number;
  /**
   * Whether each instance bounds its batches as the engine does (batch-bound.ts); default true.
   * false models an engine that reads the whole backlog (what the simulator did before). Units:
   * the engine's bound on another clock and scale (BatchBoundUnits).
   */
  batchBound?: boolean | BatchBoundUnits;
  /** Model mismatches no policy is told about (issue 19 §2); all default to the ideal engine. */
  model?: EngineModel;
}

/**
 * The engine's batch bound (batch-bound.ts) in a profile's units when the engines that run it do
 * not: a live replay plays profile seconds on a clock `speedup` times faster and at `rateScale`
 * times the rates, while the engine's time budget is live milliseconds and its record counts are
 * live records. Read in profile units, a 10× replay's engine has 4 live s = 40 profile s of budget
 * against its 1 live s trigger, where an engine on the profile's own clock has one 10 s trigger:
 * a new instance whose cold first batch measured low throughput reads four times as much per
 * trigger live as the same instance simulated on the profile's clock.
 */
export interface BatchBoundUnits {
  /** The catch-up budget of one trigger, profile seconds. */
  budgetSeconds: number;
  /** Records of a whole trigger before anything was measured, profile records. */
  initialRecords: number;
  /** Least records per task, and the least a trigger must read to be measured, profile records. */
  minRecords: number;
}

export interface EngineModel {
  /**
   * 'eager' (default): every member stops for `rebalancePauseSeconds` and every in-flight batch is
   * abandoned. 'cooperative' (Kafka's incremental cooperative protocol): partitions stay where they
   * are unless they must move; only members losing or gaining partitions pause, for
   * `cooperativePauseSeconds`, and only those losing partitions abandon their batch.
   */
  rebalance?: 'eager' | 'cooperative';
  cooperativePauseSeconds?: number;
  /** Per-instance speed falls as n^-exponent with n consuming instances (coordination, shuffles). */
  sublinearExponent?: number;
  /** Batch work grows as (rows / one trigger of capacity)^exponent: big catch-up batches cost more. */
  batchCostExponent?: number;
  /** Start-up time is log-normal around `startupSeconds` with this sigma (0 = fixed). */
  startupSigma?: number;
  /**
   * Extra seconds of a new process's first batch (default 0): a cold engine (JIT, first requests)
   * runs its first batch slower while the partitions it took wait. Live under a 0.1-CPU quota a new
   * instance's first batch ran 2.1–4.9 live s where later ones of its size ran 1.1–2.3 s.
   * Instances present at the start are warm.
   */
  coldFirstBatchSeconds?: number;
  /**
   * Extra start-up of every instance a scale-out adds, per instance it adds beyond the first
   * (default 0): a k-instance scale-out's instances each start `startupSeconds` + (k − 1) × this.
   * A group reads as one only once its last new member has joined, and live a 1 → 4 came online
   * 25–40 profile s after the 1 → 2 calibration trials in four of seven runs (2026-12-07). Not
   * applied to a full restart (Flink), which prices every instance's start-up as one.
   */
  startupPerAddedSeconds?: number;
}

/** Default pause of a cooperative rebalance: one extra join round, about 1-2 s in Kafka. */
export const COOPERATIVE_PAUSE_SECONDS = 1.5;

interface Batch {
  consumers: number;
  startAt: number;
  endAt: number;
  scheduledAt: number;
  bucket: number;
  partitions: number[];
  counts: number[];
  rows: number;
  duration: number;
  /** The process's batches with rows once this one commits; undefined: not known (Instance). */
  processRowBatches: number | undefined;
}

interface Instance {
  id: number;
  readyAt: number;
  ready: boolean;
  /**
   * Batches with rows the process has committed, as engines report it (`processRowBatches`);
   * undefined for the instances the run starts with, processes that ran before t = 0. A process at
   * 0 is cold (EngineModel.coldFirstBatchSeconds); every simulated batch has rows.
   */
  rowBatches: number | undefined;
  speedFactor: number;
  partitions: number[];
  batch: Batch | undefined;
  nextTriggerAt: number;
  /** Throughput this instance has measured over its own committed batches (one engine process). */
  meter: ThroughputMeter;
}

/** Everything one completed batch reports. */
export interface CompletedBatch {
  instance: number;
  bucket: number;
  startAt: number;
  endAt: number;
  scheduledAt: number;
  rows: number;
  duration: number;
  /** Instances consuming when the batch started. */
  consumers: number;
  processRowBatches: number | undefined;
}

export interface BatchListener {
  started(bucket: number): void;
  /** Also called with rows = 0 for a batch abandoned by a rebalance. */
  completed(batch: CompletedBatch): void;
}

export class EngineGroup {
  private instances: Instance[] = [];
  private nextId = 0;
  private pauseUntil = 0;
  private rebalanceDue = false;
  /** Rows of batches abandoned by rebalances (read again later, never lost). */
  abandonedRows = 0;
  rebalances = 0;

  constructor(
    private readonly spec: EngineSpec,
    private readonly topic: KafkaTopic,
    private readonly random: Random,
    private readonly listener: BatchListener,
  ) {}

  /** Starts with `count` instances already consuming. */
  bootstrap(count: number): void {
    for (let i = 0; i < count; i++) this.instances.push(this.newInstance(0, true));
    this.assign();
  }

  get size(): number {
    return this.instances.length;
  }

  get readyCount(): number {
    return this.instances.filter((i) => i.ready).length;
  }

  /**
   * Scales to `target` instances: new ones start up; removals take starting ones first. With
   * `fullRestart` (Flink) every instance stops, abandoning its batch, and starts again.
   */
  scaleTo(target: number, now: number, fullRestart = false): void {
    if (fullRestart) {
      // The job restarts as a whole: one start-up for every instance, old and new.
      const readyAt = now + this.drawStartup();
      for (const instance of this.instances) {
        this.abandon(instance);
        if (instance.ready) this.rebalanceDue = true;
        instance.ready = false;
        instance.rowBatches = 0;
        instance.readyAt = readyAt;
        // A new process: nothing measured yet.
        instance.meter = this.newMeter();
        instance.nextTriggerAt = readyAt;
      }
      while (this.instances.length < target) this.instances.push(this.newInstance(readyAt, false));
    }
    const extra = (target - this.instances.length - 1) * (this.spec.model?.startupPerAddedSeconds ?? 0);
    while (this.instances.length < target)
      this.instances.push(this.newInstance(now + this.drawStartup() + Math.max(0, extra), false));
    while (this.instances.length > target) {
      const starting = this.instances.map((i) => !i.ready).lastIndexOf(true);
      const index = starting >= 0 ? starting : this.instances.length - 1;
      const [removed] = this.instances.splice(index, 1);
      if (removed?.ready) {
        this.abandon(removed);
        this.rebalanceDue = true;
      }
    }
  }

  /**
   * Advances to `now`: instances finishing start-up join (rebalance), finished batches commit,
   * idle instances start batches. `rateLimit` is the query-wide cap in records/s.
   */
  step(now: number, rateLimit: number): void {
    for (const instance of this.instances) {
      if (!instance.ready && now >= instance.readyAt) {
        instance.ready = true;
        this.rebalanceDue = true;
      }
    }
    for (const instance of this.instances) {
      const batch = instance.batch;
      if (!batch || now < batch.endAt) continue;
      batch.partitions.forEach((p, k) => this.topic.commit(p, batch.counts[k] as number));
      instance.batch = undefined;
      if (instance.rowBatches !== undefined) instance.rowBatches++;
      // The engine measures committed batches only (query-runner: rows over the tasks' wall time).
      instance.meter.observe(batch.rows, batch.duration * 1000);
      this.listener.completed({ instance: instance.id, ...batch });
    }
    if (this.rebalanceDue) {
      this.rebalanceDue = false;
      this.rebalances++;
      if (this.spec.model?.rebalance === 'cooperative') {
        this.rebalanceCooperatively(now);
      } else {
        for (const instance of this.instances) this.abandon(instance);
        this.pauseUntil = now + this.spec.rebalancePauseSeconds;
        this.assign();
        for (const instance of this.instances) instance.nextTriggerAt = this.pauseUntil;
      }
    }
    if (now < this.pauseUntil) return;
    const consumers = this.readyCount;
    for (const instance of this.instances) {
      if (instance.ready && !instance.batch && now >= instance.nextTriggerAt) {
        this.startBatch(instance, now, rateLimit, consumers);
      }
    }
  }

  private startBatch(instance: Instance, now: number, rateLimit: number, consumers: number): void {
    const { triggerSeconds } = this.spec;
    const scheduledAt = instance.nextTriggerAt;
    // Spark's ProcessingTime trigger: the next batch is due at the next multiple of the interval.
    instance.nextTriggerAt = (Math.floor(now / triggerSeconds + 1e-9) + 1) * triggerSeconds;
    let available = 0;
    for (const p of instance.partitions) available += this.topic.available(p);
    if (available <= 0) return;
    // The rate limit is split across instances as the engine splits it (read-share.ts: by this
    // instance's backlog over the topic's, which the simulator knows exactly where the engine
    // reads other instances' committed offsets up to a trigger old), then prorated over
    // partitions by their lag, like maxOffsetsPerTrigger.
    const cap = Number.isFinite(rateLimit)
      ? (instanceReadShare({
          limit: rateLimit * triggerSeconds,
          ownedPartitions: instance.partitions.length,
          totalPartitions: this.topic.partitions,
          ownedBacklog: available,
          totalBacklog: this.topic.lagRecords(),
        }) ?? available)
      : available;
    const take = Math.min(cap, available);
    // Then each partition (one engine task) is bounded by the instance's measured throughput, after
    // the rate limit was spread, as trigger-planner does: either only lowers a batch.
    const bound = this.spec.batchBound;
    const units = typeof bound === 'object' ? bound : undefined;
    const perTask =
      bound === false
        ? Infinity
        : recordsPerTask({
            recordsPerSecond: instance.meter.recordsPerSecond,
            tasks: instance.partitions.length,
            budgetMs: units ? units.budgetSeconds * 1000 : batchTimeBudgetMs(triggerSeconds * 1000),
            min: units?.minRecords ?? MIN_BATCH_RECORDS,
            max: null,
            initial: units?.initialRecords ?? INITIAL_BATCH_RECORDS,
          });
    const counts = shareBatchBound(
      instance.partitions.map((p) => Math.floor((this.topic.available(p) * take) / available)),
      perTask,
    );
    const rows = counts.reduce((a, b) => a + b, 0);
    if (rows <= 0) return;
    const model = this.spec.model;
    const speed =
      this.spec.capacity *
      instance.speedFactor *
      jitterFactor(this.random, this.spec.capacityJitter) *
      Math.max(1, consumers) ** -(model?.sublinearExponent ?? 0);
    // Work in units of one trigger at full speed; an exponent above 1 makes large batches dearer.
    const work = rows / (speed * triggerSeconds);
    const exponent = model?.batchCostExponent ?? 1;
    const duration =
      this.spec.batchOverheadSeconds +
      (exponent === 1 ? rows / speed : triggerSeconds * work ** exponent) +
      (instance.rowBatches === 0 ? (model?.coldFirstBatchSeconds ?? 0) : 0);
    const bucket = Math.floor(now / triggerSeconds + 1e-9);
    const partitions = [...instance.partitions];
    instance.batch = {
      consumers,
      startAt: now,
      endAt: now + duration,
      scheduledAt,
      bucket,
      partitions,
      counts,
      rows,
      duration,
      processRowBatches: instance.rowBatches === undefined ? undefined : instance.rowBatches + 1,
    };
    this.listener.started(bucket);
  }

  private abandon(instance: Instance): void {
    const batch = instance.batch;
    if (!batch) return;
    this.abandonedRows += batch.rows;
    instance.batch = undefined;
    // Reported with zero rows so the interval it belonged to is not waited for forever.
    this.listener.completed({ instance: instance.id, ...batch, rows: 0, duration: 0 });
  }

  /**
   * Kafka's cooperative sticky assignment: every ready member keeps what it owns up to its fair
   * share; only partitions of departed members and the excess of overloaded ones move. Members that
   * lose partitions abandon their batch; members whose assignment changed pause for the extra round.
   */
  private rebalanceCooperatively(now: number): void {
    const ready = this.instances.filter((i) => i.ready);
    const before = new Map(this.instances.map((i) => [i, [...i.partitions]]));
    for (const instance of this.instances) if (!instance.ready) instance.partitions = [];
    const n = ready.length;
    if (n === 0) return;
    const P = this.topic.partitions;
    // Larger current holders get the ceil shares, so fewer partitions move.
    const order = [...ready].sort((a, b) => b.partitions.length - a.partitions.length || a.id - b.id);
    const quota = new Map(order.map((inst, k) => [inst, Math.floor(P / n) + (k < P % n ? 1 : 0)]));
    const owned = new Set<number>();
    for (const inst of order) {
      inst.partitions = inst.partitions.filter((p) => !owned.has(p)).slice(0, quota.get(inst));
      for (const p of inst.partitions) owned.add(p);
    }
    const pool: number[] = [];
    for (let p = 0; p < P; p++) if (!owned.has(p)) pool.push(p);
    for (const inst of order) {
      while (inst.partitions.length < (quota.get(inst) ?? 0) && pool.length > 0)
        inst.partitions.push(pool.shift() as number);
      inst.partitions.sort((a, b) => a - b);
    }
    const pause = this.spec.model?.cooperativePauseSeconds ?? COOPERATIVE_PAUSE_SECONDS;
    for (const inst of ready) {
      const old = before.get(inst) ?? [];
      const lost = old.some((p) => !inst.partitions.includes(p));
      const changed = lost || old.length !== inst.partitions.length;
      if (lost) this.abandon(inst);
      if (changed) inst.nextTriggerAt = Math.max(inst.nextTriggerAt, now + pause);
    }
  }

  /** A process's throughput meter, measuring triggers of at least the bound's least records. */
  private newMeter(): ThroughputMeter {
    const bound = this.spec.batchBound;
    return new ThroughputMeter(typeof bound === 'object' ? bound.minRecords : MIN_BATCH_RECORDS);
  }

  /** Start-up time of one instance: fixed, or log-normal around it with the model's sigma. */
  private drawStartup(): number {
    const sigma = this.spec.model?.startupSigma ?? 0;
    if (sigma <= 0) return this.spec.startupSeconds;
    // Box-Muller; 1 - u keeps the logarithm finite.
    const z = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
    return this.spec.startupSeconds * Math.exp(sigma * z - (sigma * sigma) / 2);
  }

  /** Range-style assignment over ready instances: shares differ by at most one partition. */
  private assign(): void {
    const ready = this.instances.filter((i) => i.ready);
    for (const instance of this.instances) instance.partitions = [];
    const n = ready.length;
    if (n === 0) return;
    const P = this.topic.partitions;
    ready.forEach((instance, k) => {
      const from = Math.floor((k * P) / n);
      const to = Math.floor(((k + 1) * P) / n);
      for (let p = from; p < to; p++) instance.partitions.push(p);
    });
  }

  private newInstance(readyAt: number, ready: boolean): Instance {
    return {
      id: this.nextId++,
      readyAt,
      ready,
      // Ready at creation: one of the instances the run starts with, warm as a simulated t = 0 is.
      rowBatches: ready ? undefined : 0,
      speedFactor: jitterFactor(this.random, this.spec.instanceSkew),
      partitions: [],
      batch: undefined,
      nextTriggerAt: readyAt,
      meter: this.newMeter(),
    };
  }
}
