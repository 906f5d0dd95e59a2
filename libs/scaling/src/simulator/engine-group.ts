// Engine instances consuming the topic as one Kafka consumer group. Each ready instance runs its own
// micro-batch loop on the partitions assigned to it: at every trigger (multiples of the trigger
// interval, or at once after an overrunning batch) it reads what is available, capped by its share
// of the rate limit, and commits when the batch ends. A change of membership rebalances the group:
// in-flight batches are abandoned (their records stay uncommitted and are read again) and every
// instance stops consuming for the rebalance pause.
import type { KafkaTopic } from './kafka-topic';
import { jitterFactor, type Random } from './prng';

export interface EngineSpec {
  capacity: number;
  startupSeconds: number;
  rebalancePauseSeconds: number;
  batchOverheadSeconds: number;
  triggerSeconds: number;
  capacityJitter: number;
  instanceSkew: number;
}

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
}

interface Instance {
  id: number;
  readyAt: number;
  ready: boolean;
  speedFactor: number;
  partitions: number[];
  batch: Batch | undefined;
  nextTriggerAt: number;
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
      for (const instance of this.instances) {
        this.abandon(instance);
        if (instance.ready) this.rebalanceDue = true;
        instance.ready = false;
        instance.readyAt = now + this.spec.startupSeconds;
        instance.nextTriggerAt = instance.readyAt;
      }
    }
    while (this.instances.length < target)
      this.instances.push(this.newInstance(now + this.spec.startupSeconds, false));
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
      this.listener.completed({ instance: instance.id, ...batch });
    }
    if (this.rebalanceDue) {
      this.rebalanceDue = false;
      this.rebalances++;
      for (const instance of this.instances) this.abandon(instance);
      this.pauseUntil = now + this.spec.rebalancePauseSeconds;
      this.assign();
      for (const instance of this.instances) instance.nextTriggerAt = this.pauseUntil;
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
    // The rate limit is split by partition count, then prorated over partitions by their lag,
    // like maxOffsetsPerTrigger.
    const share = instance.partitions.length / this.topic.partitions;
    const cap = Number.isFinite(rateLimit)
      ? Math.max(1, Math.floor(rateLimit * share * triggerSeconds))
      : available;
    const take = Math.min(cap, available);
    const counts = instance.partitions.map((p) => Math.floor((this.topic.available(p) * take) / available));
    const rows = counts.reduce((a, b) => a + b, 0);
    if (rows <= 0) return;
    const speed =
      this.spec.capacity * instance.speedFactor * jitterFactor(this.random, this.spec.capacityJitter);
    const duration = this.spec.batchOverheadSeconds + rows / speed;
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
      speedFactor: jitterFactor(this.random, this.spec.instanceSkew),
      partitions: [],
      batch: undefined,
      nextTriggerAt: readyAt,
    };
  }
}
