// The OutputLog on Kafka: a transactional producer per task (its transactional id belongs to the
// task, so a new owner fences the old one), the instance's producer for the trigger's shared
// transaction, and the group offsets read through the admin client.
//
// Why two kinds of producer: a new batch of a kafka-group task commits in ONE transaction with
// every other such batch of the trigger (the instance producer, `writer` in the batch's offset-log
// entry): a trigger costs one transaction's requests, not one per owned partition (issue 20 §5).
// A per-task transactional id can no longer fence a zombie of such a batch, so the offset log
// does: its entry is written create-exclusive before the transaction commits and names the
// writer, and a next owner fences that writer (InitProducerId for its id) before it reads the
// marker. A replay (a batch planned by someone else, re-run at recovery) commits on the task's
// own producer, which recovery opens, so it is fenced as before.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Message, Producer, ProducerConfig, RecordMetadata } from 'kafkajs';
import { committedGroupOffsets } from '@sluice/kafka';
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { CommittedWrites } from './committed-writes';
import { chunkBySize, DEFAULT_MAX_MESSAGE_BYTES } from './kafka-limits';
import {
  markerMetadata,
  type OutputBatches,
  type OutputLog,
  type TaskOutputWriter,
  type TriggerTransaction,
} from './output-log';
import { TriggerRendezvous } from './trigger-rendezvous';
import { retryConcurrentTransactions, TASK_PRODUCER_RETRY } from './transaction-retry';

/** A task's producer: its transactional id belongs to the task (bench:txn builds the same). */
export function taskProducerConfig(scope: string, task: string): ProducerConfig {
  return transactionalConfig(`sluice-${scope}-${task}`);
}

function transactionalConfig(transactionalId: string): ProducerConfig {
  return {
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60_000,
    retry: TASK_PRODUCER_RETRY,
  };
}

/**
 * A task's transactional producer, initialised: Kafka's InitProducerId for the task's
 * transactional id fences every earlier producer of that id and completes (aborts) its open
 * transaction, so markers and read_committed ends read afterwards are final.
 */
export async function openTaskProducer(kafka: Kafka, scope: string, task: string): Promise<Producer> {
  return openFencingProducer(kafka, taskProducerConfig(scope, task));
}

async function openFencingProducer(kafka: Kafka, config: ProducerConfig): Promise<Producer> {
  const producer = kafka.producer(config);
  await producer.connect();
  try {
    const fence = await producer.transaction();
    await fence.abort();
  } catch (e) {
    // The fencing error is the one to report (the caller retries the task); a disconnect that fails
    // too only means the connection is gone already, and the producer is dropped either way.
    await producer.disconnect().catch(() => undefined);
    throw e;
  }
  return producer;
}

/** Completes (aborts) the open transaction of the producers of `transactionalId` and fences them. */
export async function fenceTransactionalId(kafka: Kafka, transactionalId: string): Promise<void> {
  await (await openFencingProducer(kafka, transactionalConfig(transactionalId))).disconnect();
}

/**
 * Fences the tasks of a checkpoint lineage that no longer runs (a continuing lineage reads where it
 * ended): the tasks' own producers and the instance producers named by their last offset-log entries.
 */
export async function fenceTasks(
  kafka: Kafka,
  scope: string,
  tasks: string[],
  writers: Iterable<string> = [],
): Promise<void> {
  await Promise.all([
    ...tasks.map(async (task) => (await openTaskProducer(kafka, scope, task)).disconnect()),
    ...[...new Set(writers)].map((w) => fenceTransactionalId(kafka, w)),
  ]);
}

/** One task's part of a trigger's shared transaction. */
interface SharedPart {
  batches: OutputBatches;
  marker: { groupId: string; entry: OffsetLogEntry };
  beforeCommit?: () => Promise<void>;
}

/** The records of all parts, per topic in the order they came (one send per topic and size chunk). */
function recordsByTopic(parts: SharedPart[]): Map<string, Message[]> {
  const byTopic = new Map<string, Message[]>();
  for (const part of parts)
    for (const batch of part.batches) {
      if (batch.messages.length === 0) continue;
      const list = byTopic.get(batch.topic);
      if (list) for (const m of batch.messages) list.push(m);
      else byTopic.set(batch.topic, [...batch.messages]);
    }
  return byTopic;
}

/** The markers of all parts, per consumer group: one TxnOffsetCommit per group. */
function markersByGroup(
  parts: SharedPart[],
): Map<
  string,
  Array<{ topic: string; partitions: Array<{ partition: number; offset: string; metadata: string }> }>
> {
  const byGroup = new Map<
    string,
    Map<string, Array<{ partition: number; offset: string; metadata: string }>>
  >();
  for (const { marker } of parts) {
    const { range, batchId } = marker.entry;
    const topics = byGroup.get(marker.groupId) ?? new Map();
    byGroup.set(marker.groupId, topics);
    const partitions = topics.get(range.topic) ?? [];
    topics.set(range.topic, partitions);
    partitions.push({
      partition: range.partition,
      offset: String(range.end),
      metadata: markerMetadata(batchId),
    });
  }
  return new Map(
    [...byGroup].map(([group, topics]) => [
      group,
      [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    ]),
  );
}

export class KafkaOutputLog implements OutputLog {
  /**
   * The instance producer, opened (InitProducerId done) before any offset-log entry names its id,
   * and never opened again under that id: a next owner's fence then stops every transaction that
   * id could still commit. A producer that fails is dropped with its id; the next trigger opens one
   * under a new id. New for every process too, so a restarted engine fences its predecessor's
   * through the offset log like any other writer's (a fixed id would tie the fence to a process
   * slot that Kubernetes does not keep).
   */
  private shared: { writer: string; producer: Producer } | undefined;
  /** The instance producer opened ahead of the first trigger (`openEarly`), until a trigger takes it. */
  private early: Promise<{ writer: string; producer: Producer }> | undefined;
  /** Fences under way, so tasks recovered side by side fence a writer once. */
  private readonly fencing = new Map<string, Promise<void>>();
  /** What committed transactions wrote (an availableNow run waits until it is visible). */
  readonly written = new CommittedWrites();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    /** Names transactional ids: `sluice-<scope>-<task>`, `sluice-<scope>-w-<uuid>`. */
    private readonly scope: string,
    /** max.message.bytes per output topic (kafka-limits.readMaxMessageBytes). */
    private readonly maxMessageBytes: ReadonlyMap<string, number>,
  ) {}

  /**
   * The trigger's shared transaction for `tasks` (each commits or withdraws exactly once) and the
   * writer id their offset-log entries name; undefined when there are no such tasks. Opens the
   * instance producer first when there is none.
   */
  async beginTrigger(tasks: string[]): Promise<{ txn: TriggerTransaction; writer: string } | undefined> {
    if (tasks.length === 0) return undefined;
    const shared = (this.shared ??= await this.takeEarly());
    const rendezvous = new TriggerRendezvous<SharedPart>(tasks, (parts) => this.commitShared(shared, parts));
    return {
      writer: shared.writer,
      txn: {
        transaction: (task, batches, marker, beforeCommit) =>
          rendezvous.contribute(task, { batches, marker, ...(beforeCommit ? { beforeCommit } : {}) }),
        withdraw: (task) => rendezvous.withdraw(task),
      },
    };
  }

  async fenceWriter(writer: string): Promise<void> {
    if (writer === this.shared?.writer) return;
    let fence = this.fencing.get(writer);
    if (!fence) {
      fence = fenceTransactionalId(this.kafka, writer).finally(() => this.fencing.delete(writer));
      this.fencing.set(writer, fence);
    }
    await fence;
  }

  /**
   * Opens the instance producer now, without waiting, so that the first trigger with rows finds it
   * open. Why: the open is a chain of round trips (connect, the transaction coordinator, InitProducerId,
   * an empty transaction) that the first trigger otherwise pays inside its batch, and a new or
   * replacement instance adds nothing until that batch commits. Started while the groups join, it
   * costs the join nothing. (Under a 0.1-CPU quota it was not what made a cold first batch slow:
   * BENCHMARKS.md, 2026-12-06 15:38.) The id is named by no offset-log entry until a trigger takes
   * the producer, so an instance that never runs a batch leaves nothing to fence.
   */
  openEarly(): void {
    if (this.shared || this.early) return;
    this.early = this.openShared();
    // Taken by the first trigger, which opens another when this one failed (takeEarly).
    this.early.catch(() => undefined);
  }

  /** The producer `openEarly` opened, or a new one when it did not (or failed to). */
  private async takeEarly(): Promise<{ writer: string; producer: Producer }> {
    const early = this.early;
    this.early = undefined;
    // A failed early open is dropped, not reported: the trigger opens another here, and that
    // open's error (the same cause, if it persists) is the one the trigger reports.
    return (await early?.catch(() => undefined)) ?? (await this.openShared());
  }

  /** Closes the instance producer (at shutdown: no trigger runs). */
  async closeShared(): Promise<void> {
    const early = this.early;
    this.early = undefined;
    // At shutdown: an early open that failed left nothing to close, and a producer no trigger took
    // has no transaction; a disconnect that fails leaves nothing to retry (its id is never used).
    const opened = await early?.catch(() => undefined);
    await opened?.producer.disconnect().catch(() => undefined);
    const shared = this.shared;
    this.shared = undefined;
    // Every trigger has committed or aborted by now: nothing to lose, nothing to retry (the id is
    // never used again; a next owner fences it by the offset log's entries).
    await shared?.producer.disconnect().catch(() => undefined);
  }

  private async openShared(): Promise<{ writer: string; producer: Producer }> {
    const writer = `sluice-${this.scope}-w-${randomUUID()}`;
    return { writer, producer: await openFencingProducer(this.kafka, transactionalConfig(writer)) };
  }

  private async commitShared(
    shared: { writer: string; producer: Producer },
    parts: SharedPart[],
  ): Promise<void> {
    const txn = await shared.producer.transaction();
    const sent: RecordMetadata[] = [];
    try {
      for (const [topic, messages] of recordsByTopic(parts))
        for (const chunk of chunkBySize(
          messages,
          this.maxMessageBytes.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES,
        ))
          sent.push(...(await txn.send({ topic, messages: chunk })));
      for (const [consumerGroupId, topics] of markersByGroup(parts))
        await retryConcurrentTransactions(() => txn.sendOffsets({ consumerGroupId, topics }));
      await Promise.all(parts.map((p) => p.beforeCommit?.()));
      await txn.commit();
      this.written.note(sent);
    } catch (err) {
      // The commit's own error is the one to report; an abort that fails leaves the transaction to
      // time out on the broker, and a next owner's fence of this writer ends it sooner.
      await txn.abort().catch(() => undefined);
      // A fenced producer (another owner took a task and fenced this writer) cannot commit again,
      // and must not be opened again under its id (see `shared`): the next trigger takes a new one.
      if (this.shared === shared) this.shared = undefined;
      void shared.producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async open(task: string): Promise<TaskOutputWriter> {
    const producer = await openTaskProducer(this.kafka, this.scope, task);
    const limits = this.maxMessageBytes;
    const written = this.written;
    return {
      async transaction(batches, marker, beforeCommit) {
        const txn = await producer.transaction();
        const sent: RecordMetadata[] = [];
        try {
          for (const batch of batches) {
            if (batch.messages.length === 0) continue;
            // Kafka refuses a record batch above the topic's max.message.bytes; kafkajs sends all of a
            // partition's messages of one send() as one batch, so large outputs go in several sends.
            for (const messages of chunkBySize(
              batch.messages,
              limits.get(batch.topic) ?? DEFAULT_MAX_MESSAGE_BYTES,
            )) {
              sent.push(...(await txn.send({ topic: batch.topic, messages })));
            }
          }
          if (marker) {
            const { range, batchId } = marker.entry;
            // kafkajs passes `metadata` through to TxnOffsetCommit although its types omit it.
            const partition = {
              partition: range.partition,
              offset: String(range.end),
              metadata: markerMetadata(batchId),
            };
            // Without records first, AddOffsetsToTxn is the transaction's first request, and kafkajs
            // does not retry its CONCURRENT_TRANSACTIONS (transaction-retry.ts).
            await retryConcurrentTransactions(() =>
              txn.sendOffsets({
                consumerGroupId: marker.groupId,
                topics: [{ topic: range.topic, partitions: [partition] }],
              }),
            );
          }
          if (beforeCommit) await beforeCommit();
          await txn.commit();
          written.note(sent);
        } catch (err) {
          // The commit's own error is the one to report; an abort that fails leaves the transaction
          // to time out on the broker, and the next batch's producer fences it anyway.
          await txn.abort().catch(() => undefined);
          throw err;
        }
      },
      async close() {
        // At a task's release or shutdown: the batch is committed or aborted by now, nothing to lose;
        // a disconnect that fails leaves nothing to retry (the next producer of the task fences it).
        await producer.disconnect().catch(() => undefined);
      },
    };
  }

  async groupMarker(
    groupId: string,
    topic: string,
    partition: number,
    stable = false,
  ): Promise<string | undefined> {
    const offsets = await committedGroupOffsets(this.admin, groupId, [topic], { requireStable: stable });
    return offsets.get(`${topic}:${partition}`)?.metadata ?? undefined;
  }
}
