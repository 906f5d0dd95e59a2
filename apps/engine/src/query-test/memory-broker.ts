// An in-memory stand-in for the Kafka cluster in `engine test`: topics of partitions of
// records, consumer-group offsets with metadata (the kafka-group marker), and per-task
// transactional writers (a newer writer of a task fences the older one, as a transactional id
// does). It outlives a `# restart` of the query, as a broker outlives an engine.
import type { Message } from 'kafkajs';
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';
import {
  markerMetadata,
  type OutputBatches,
  type OutputLog,
  type TaskOutputWriter,
} from '../exec/output-log';
import type { Bounds } from '../exec/trigger-planner';
import type { Stage } from '../exec/task-runtime';
import type { SourceRecord, TopicPartition } from '../source/group-reader';
import type { Source } from '../source/source';

export class MemoryBroker implements OutputLog {
  private readonly topics = new Map<string, SourceRecord[][]>();
  private readonly groupOffsets = new Map<string, { offset: number; metadata: string }>();
  private readonly writerEpochs = new Map<string, number>();
  /** Logical time of appended records (a test's records are ordered, not timed). */
  private clock = 0;

  createTopic(topic: string, partitions: number): void {
    if (!this.topics.has(topic))
      this.topics.set(
        topic,
        Array.from({ length: partitions }, () => []),
      );
  }

  private partitionsOf(topic: string): SourceRecord[][] {
    const p = this.topics.get(topic);
    if (!p) throw new Error(`unknown topic ${topic}`);
    return p;
  }

  /** Appends a record; returns its offset. */
  append(topic: string, partition: number, value: Buffer | null, key: Buffer | null = null): number {
    const log = this.partitionsOf(topic)[partition];
    if (!log) throw new Error(`topic ${topic} has no partition ${partition}`);
    const offset = log.length;
    log.push({ topic, partition, offset, key, value, timestampMs: ++this.clock, headers: {} });
    return offset;
  }

  partitions(topic: string): TopicPartition[] {
    return this.partitionsOf(topic).map((_, partition) => ({ topic, partition }));
  }

  bounds(topic: string): Map<number, Bounds> {
    return new Map(this.partitionsOf(topic).map((log, p) => [p, { earliest: 0, latest: log.length }]));
  }

  read(topic: string, partition: number, start: number, end: number): SourceRecord[] {
    const log = this.partitionsOf(topic)[partition] ?? [];
    if (end > log.length)
      throw new Error(`${topic}-${partition}: read up to ${end}, the log ends at ${log.length}`);
    return log.slice(start, end);
  }

  /** Every record of a topic, in partition then offset order. */
  records(topic: string): SourceRecord[] {
    return this.partitionsOf(topic).flat();
  }

  async open(task: string): Promise<TaskOutputWriter> {
    const epoch = (this.writerEpochs.get(task) ?? 0) + 1;
    this.writerEpochs.set(task, epoch);
    return {
      transaction: async (batches, marker, beforeCommit) => {
        const assertNotFenced = () => {
          if (this.writerEpochs.get(task) !== epoch)
            throw new Error(`task ${task}: writer fenced by a newer owner`);
        };
        assertNotFenced();
        if (beforeCommit) {
          await beforeCommit();
          assertNotFenced();
        }
        this.commit(batches, marker);
      },
      close: async () => undefined,
    };
  }

  /** As a new writer of that id would (InitProducerId): its older writers are fenced. */
  async fenceWriter(writer: string): Promise<void> {
    this.writerEpochs.set(writer, (this.writerEpochs.get(writer) ?? 0) + 1);
  }

  /** All of a transaction or nothing: everything is checked before anything is appended. */
  private commit(batches: OutputBatches, marker?: { groupId: string; entry: OffsetLogEntry }): void {
    const targets = batches.flatMap((b) =>
      b.messages.map((m: Message) => {
        const partitions = this.partitionsOf(b.topic);
        const p = m.partition ?? 0;
        if (p < 0 || p >= partitions.length) throw new Error(`topic ${b.topic} has no partition ${p}`);
        return { topic: b.topic, partition: p, m };
      }),
    );
    for (const { topic, partition, m } of targets)
      this.append(topic, partition, toBuffer(m.value), toBuffer(m.key));
    if (marker) {
      const { range, batchId } = marker.entry;
      this.groupOffsets.set(`${marker.groupId}|${range.topic}:${range.partition}`, {
        offset: range.end,
        metadata: markerMetadata(batchId),
      });
    }
  }

  async groupMarker(groupId: string, topic: string, partition: number): Promise<string | undefined> {
    return this.groupOffsets.get(`${groupId}|${topic}:${partition}`)?.metadata;
  }
}

function toBuffer(v: Message['value'] | Message['key']): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(v);
}

/** The Source over a MemoryBroker: one instance owns every partition. */
export class MemorySource implements Source {
  constructor(
    private readonly broker: MemoryBroker,
    private readonly sourceTopics: string[],
    private readonly repartitionTopic: string | undefined,
  ) {}

  assignment(stage: Stage): TopicPartition[] {
    if (stage === 'source') return this.sourceTopics.flatMap((t) => this.broker.partitions(t));
    return this.repartitionTopic ? this.broker.partitions(this.repartitionTopic) : [];
  }

  async bounds(topic: string): Promise<Map<number, Bounds>> {
    return this.broker.bounds(topic);
  }

  async read(
    _stage: Stage,
    topic: string,
    partition: number,
    start: number,
    end: number,
  ): Promise<SourceRecord[]> {
    return this.broker.read(topic, partition, start, end);
  }

  async commitPosition(): Promise<void> {
    // Lag is a broker-side figure for operators; the harness has no one to show it to.
  }
}
