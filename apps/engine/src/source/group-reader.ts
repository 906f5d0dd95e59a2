// Reads exact offset ranges [start, end) from the partitions Kafka's group protocol assigns to
// this instance. kafkajs only offers a push consumer, so records are buffered per partition:
// every partition stays paused until a batch asks for it (then we seek to the batch's start),
// prefetching continues up to `maxBufferedRecords` past the current range, and a revoked
// partition fails the pending read. Offsets are managed by the engine (autoCommit off); the
// consumer group only decides ownership.
import { PartitionAssigners, type Batch, type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';
import type { GroupMemberFile } from './group-member-file';
import { stickyAssigner } from './sticky-assigner';

export interface SourceRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestampMs: number;
  headers: Record<string, string>;
  /** Why the source already refuses this record (a file source's over-long line): a dead letter. */
  refused?: string;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export class PartitionRevokedError extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    super(`partition ${topic}-${partition} was revoked by a rebalance`);
    this.name = 'PartitionRevokedError';
  }
}

export interface GroupReaderOptions {
  groupId: string;
  topics: string[];
  maxBufferedRecords?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxWaitTimeMs?: number;
  /** Where this instance records its member id, so that a replacement after a crash rejoins as it. */
  memberFile?: GroupMemberFile;
  onRebalance?: (
    assignment: TopicPartition[],
    generation: number,
    moved: { kept: number; added: number; revoked: number },
  ) => void;
  onFatal?: (err: Error) => void;
}

interface Waiter {
  end: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface PartitionBuffer {
  topic: string;
  partition: number;
  /** The buffer holds every record with offset in [from, position). */
  from: number;
  position: number;
  records: SourceRecord[];
  paused: boolean;
  waiter?: Waiter;
}

/** Fetch sizes of the reader's consumer (see the constructor). */
export const FETCH_MAX_BYTES = 2 * 1024 * 1024;
export const FETCH_MAX_PARTITION_BYTES = 512 * 1024;

export const tpKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/** A fetched message as a source record (exported for the batch-path warm-up, which decodes its own). */
export function toSourceRecord(topic: string, partition: number, m: KafkaMessage): SourceRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : String(v);
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key ?? null,
    value: m.value ?? null,
    timestampMs: Number(m.timestamp),
    headers,
  };
}

export class GroupReader {
  private readonly consumer: Consumer;
  private readonly buffers = new Map<string, PartitionBuffer>();
  private assigned: TopicPartition[] = [];
  private assignedKeys = new Set<string>();
  private generationCount = 0;
  /** This member's id when it got its current assignment (sticky-assigner's claim). */
  private assignedAs: string | null = null;
  private joined: Promise<void>;
  private markJoined!: () => void;
  private readonly cap: number;

  constructor(
    kafka: Kafka,
    private readonly opts: GroupReaderOptions,
  ) {
    this.cap = opts.maxBufferedRecords ?? 50_000;
    const sessionTimeout = opts.sessionTimeoutMs ?? 10_000;
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout,
      heartbeatInterval: opts.heartbeatIntervalMs ?? 1000,
      maxWaitTimeInMs: opts.maxWaitTimeMs ?? 100,
      // kafkajs decodes a whole fetch response on this thread and heartbeats only between
      // batches: its defaults (10 MB a fetch, 1 MB a partition) are seconds of decoding on a
      // CPU-limited engine, long enough to miss the session timeout during a catch-up. Smaller
      // fetches keep each turn of its fetch loop short (Kafka's fetch.max.bytes plays this role).
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_MAX_PARTITION_BYTES,
      readUncommitted: false,
      // A crashed predecessor's id (patches/kafkajs+2.2.4+001+read-committed-and-member-id.patch):
      // its join does not wait for the coordinator to expire the dead member's session
      // (group-member-file.ts).
      memberId: opts.memberFile?.predecessor(sessionTimeout),
      // Sticky first: a join or a leave moves only the partitions balance needs, so the batches
      // of the others run on (sticky-assignment.ts). Round robin stays for mixed-version groups.
      partitionAssigners: [
        stickyAssigner({ owned: () => this.assigned, ownedAs: () => this.assignedAs }),
        PartitionAssigners.roundRobin,
      ],
    });
    this.joined = new Promise((resolve) => (this.markJoined = resolve));
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.assignedAs = e.payload.memberId;
      opts.memberFile?.save(e.payload.memberId);
      this.onJoin(e.payload.memberAssignment);
    });
    this.consumer.on(this.consumer.events.START_BATCH_PROCESS, (e) => {
      // A fetch holding only control records or aborted transactions never reaches eachBatch,
      // yet those offsets count towards a range's end.
      const { topic, partition, batchSize, firstOffset, lastOffset } = e.payload;
      if (batchSize !== 0 || firstOffset === null) return;
      const buf = this.buffers.get(tpKey(topic, partition));
      if (buf && Number(firstOffset) >= buf.position) this.advance(buf, Number(lastOffset) + 1);
    });
    if (opts.memberFile) {
      const file = opts.memberFile;
      this.consumer.on(this.consumer.events.HEARTBEAT, () => file.touch());
    }
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (!e.payload.restart) opts.onFatal?.(e.payload.error);
    });
  }

  get generation(): number {
    return this.generationCount;
  }

  assignment(): TopicPartition[] {
    return this.assigned;
  }

  isAssigned(topic: string, partition: number): boolean {
    return this.assignedKeys.has(tpKey(topic, partition));
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    for (const topic of this.opts.topics) await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isStale }) => {
        if (!isStale()) this.onBatch(batch, resolveOffset);
      },
    });
  }

  /** Resolves once the group has given this member its first assignment. */
  waitForAssignment(): Promise<void> {
    return this.joined;
  }

  private onJoin(memberAssignment: Record<string, number[]>): void {
    const next: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(memberAssignment)) {
      for (const partition of partitions) next.push({ topic, partition });
    }
    next.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    const before = this.assignedKeys;
    const kept = next.filter((tp) => before.has(tpKey(tp.topic, tp.partition))).length;
    const moved = { kept, added: next.length - kept, revoked: before.size - kept };
    this.assigned = next;
    this.assignedKeys = new Set(next.map((tp) => tpKey(tp.topic, tp.partition)));
    this.generationCount++;
    for (const [key, buf] of this.buffers) {
      if (this.assignedKeys.has(key)) {
        // kafkajs restarts fetching from the group's committed offsets after a rejoin.
        this.consumer.seek({ topic: buf.topic, partition: buf.partition, offset: String(buf.position) });
      } else {
        this.buffers.delete(key);
        buf.waiter?.reject(new PartitionRevokedError(buf.topic, buf.partition));
      }
    }
    const idle = next.filter((tp) => !this.buffers.has(tpKey(tp.topic, tp.partition)));
    for (const tp of idle) this.consumer.pause([{ topic: tp.topic, partitions: [tp.partition] }]);
    this.opts.onRebalance?.(next, this.generationCount, moved);
    this.markJoined();
  }

  private onBatch(batch: Batch, resolveOffset: (offset: string) => void): void {
    const buf = this.buffers.get(tpKey(batch.topic, batch.partition));
    if (!buf) return; // not read yet: the pause issued at join time will take effect
    const fetchedOffset = (batch as Batch & { fetchedOffset?: string }).fetchedOffset;
    if (fetchedOffset !== undefined && Number(fetchedOffset) !== buf.position) {
      // Fetched from somewhere else (kafkajs reset its position): steer it back.
      this.consumer.seek({ topic: buf.topic, partition: buf.partition, offset: String(buf.position) });
      return;
    }
    for (const m of batch.messages) {
      if (Number(m.offset) >= buf.position) buf.records.push(toSourceRecord(batch.topic, batch.partition, m));
    }
    resolveOffset(batch.lastOffset());
    if (batch.firstOffset() !== null) this.advance(buf, Number(batch.lastOffset()) + 1);
  }

  private advance(buf: PartitionBuffer, position: number): void {
    if (position > buf.position) buf.position = position;
    const waiter = buf.waiter;
    if (waiter && buf.position >= waiter.end) {
      buf.waiter = undefined;
      waiter.resolve();
    }
    if (!buf.waiter && buf.records.length >= this.cap) this.setPaused(buf, true);
  }

  private setPaused(buf: PartitionBuffer, paused: boolean): void {
    if (buf.paused === paused) return;
    buf.paused = paused;
    const tp = [{ topic: buf.topic, partitions: [buf.partition] }];
    if (paused) this.consumer.pause(tp);
    else this.consumer.resume(tp);
  }

  private bufferFor(topic: string, partition: number, start: number): PartitionBuffer {
    const key = tpKey(topic, partition);
    let buf = this.buffers.get(key);
    if (buf && start >= buf.from && start <= buf.position) return buf;
    buf?.waiter?.reject(new Error(`read of ${topic}-${partition} superseded`));
    buf = { topic, partition, from: start, position: start, records: [], paused: true };
    this.buffers.set(key, buf);
    this.consumer.seek({ topic, partition, offset: String(start) });
    return buf;
  }

  /** Every record with start ≤ offset < end; waits for the fetcher to get there. */
  async read(topic: string, partition: number, start: number, end: number): Promise<SourceRecord[]> {
    if (!this.isAssigned(topic, partition)) throw new PartitionRevokedError(topic, partition);
    const buf = this.bufferFor(topic, partition, start);
    let drop = 0;
    while (drop < buf.records.length && buf.records[drop]!.offset < start) drop++;
    if (drop > 0) buf.records.splice(0, drop);
    buf.from = start;
    if (buf.position < end) {
      await new Promise<void>((resolve, reject) => {
        buf.waiter = { end, resolve, reject };
        this.setPaused(buf, false);
      });
    }
    let take = 0;
    while (take < buf.records.length && buf.records[take]!.offset < end) take++;
    const records = buf.records.splice(0, take);
    buf.from = end;
    if (buf.records.length < this.cap) this.setPaused(buf, false);
    return records;
  }

  /** Best-effort, non-transactional commit (keeps group lag meaningful for non-Kafka sinks). */
  async commit(offsets: Array<TopicPartition & { offset: number; metadata?: string }>): Promise<void> {
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(
      offsets.map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: String(o.offset),
        metadata: o.metadata ?? null,
      })),
    );
  }

  async stop(): Promise<void> {
    for (const buf of this.buffers.values()) buf.waiter?.reject(new Error('reader stopped'));
    this.buffers.clear();
    await this.consumer.disconnect();
    // disconnect left the group: a successor has no member to take over.
    this.opts.memberFile?.clear();
  }
}
