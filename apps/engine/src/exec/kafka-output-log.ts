// The OutputLog on Kafka: a transactional producer per task (its transactional id belongs to the
// task, so a new owner fences the old one) and the group offsets read through the admin client.
import type { Admin, Kafka, Producer, ProducerConfig } from 'kafkajs';
import { committedGroupOffsets } from '@sluice/kafka';
import { chunkBySize, DEFAULT_MAX_MESSAGE_BYTES } from './kafka-limits';
import { markerMetadata, type OutputLog, type TaskOutputWriter } from './output-log';
import { retryConcurrentTransactions, TASK_PRODUCER_RETRY } from './transaction-retry';

/** A task's producer: its transactional id belongs to the task (bench:txn builds the same). */
export function taskProducerConfig(scope: string, task: string): ProducerConfig {
  return {
    transactionalId: `sluice-${scope}-${task}`,
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
  const producer = kafka.producer(taskProducerConfig(scope, task));
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

/** Fences the tasks of a checkpoint lineage that no longer runs (a continuing lineage reads where it ended). */
export async function fenceTasks(kafka: Kafka, scope: string, tasks: string[]): Promise<void> {
  await Promise.all(tasks.map(async (task) => (await openTaskProducer(kafka, scope, task)).disconnect()));
}

export class KafkaOutputLog implements OutputLog {
  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    /** Names transactional ids: `sluice-<scope>-<task>`. */
    private readonly scope: string,
    /** max.message.bytes per output topic (kafka-limits.readMaxMessageBytes). */
    private readonly maxMessageBytes: ReadonlyMap<string, number>,
  ) {}

  async open(task: string): Promise<TaskOutputWriter> {
    const producer = await openTaskProducer(this.kafka, this.scope, task);
    const limits = this.maxMessageBytes;
    return {
      async transaction(batches, marker, beforeCommit) {
        const txn = await producer.transaction();
        try {
          for (const batch of batches) {
            if (batch.messages.length === 0) continue;
            // Kafka refuses a record batch above the topic's max.message.bytes; kafkajs sends all of a
            // partition's messages of one send() as one batch, so large outputs go in several sends.
            for (const messages of chunkBySize(
              batch.messages,
              limits.get(batch.topic) ?? DEFAULT_MAX_MESSAGE_BYTES,
            )) {
              await txn.send({ topic: batch.topic, messages });
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

  async groupMarker(groupId: string, topic: string, partition: number): Promise<string | undefined> {
    const offsets = await committedGroupOffsets(this.admin, groupId, [topic]);
    return offsets.get(`${topic}:${partition}`)?.metadata ?? undefined;
  }
}
