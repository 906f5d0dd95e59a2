// Makes one task's batch output visible exactly once. The "marker" that says "task T finished
// batch B" is committed atomically with the output:
//  - Kafka output (sink or repartition topic): one transaction per batch that holds the records
//    and the consumer-group offset (its metadata carries the batch id), on a producer whose
//    transactional id belongs to the task, so a new owner fences the old one;
//  - PostgreSQL sink: the rows and a `sluice_engine.sink_commits` row in one DB transaction;
//  - console sink (demo): the checkpoint commit log (at-least-once).
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { committedGroupOffsets } from '@sluice/kafka';
import type { CheckpointStore, OffsetLogEntry } from '../checkpoint/checkpoint-store';
import type { OutputColumn } from '../sinks/format-row';
import { isRowDataError } from '../pg/pg-errors';
import { withTransaction } from '../pg/with-transaction';
import { committedBatch, upsertBatch, upsertBatchIsolating, type SinkBatch } from '../sinks/postgres-table';
import { chunkBySize, DEFAULT_MAX_MESSAGE_BYTES } from './kafka-limits';

export type MarkerKind = 'kafka-group' | 'postgres' | 'checkpoint';

export interface TaskBatchOutput {
  /** Records for Kafka: DLQ, repartition or the Kafka sink. */
  kafka: Array<{ topic: string; messages: Message[] }>;
  /** Rows for the PostgreSQL sink (already in output-column form). */
  pgRows: Array<Record<string, unknown>>;
  /**
   * Where a row PostgreSQL refuses for its data goes instead: the dead letter for pgRows[index].
   * Without it such a refusal fails the batch.
   */
  pgRefused?: { topic: string; deadLetter: (index: number, reason: string) => Message };
  /** Lines for the console sink. */
  consoleLines: string[];
}

export interface PostgresTarget {
  pool: Pool;
  table: string;
  columns: OutputColumn[];
  key: string[];
}

const MARKER_PREFIX = 'sluice-batch:';

/** The batch id a kafka-group marker's offset metadata names, if it is one. */
export function markerBatch(metadata: string | null | undefined): number | undefined {
  if (!metadata?.startsWith(MARKER_PREFIX)) return undefined;
  const batch = Number(metadata.slice(MARKER_PREFIX.length));
  return Number.isInteger(batch) ? batch : undefined;
}

/**
 * A task's transactional producer, initialised: Kafka's InitProducerId for the task's
 * transactional id fences every earlier producer of that id and completes (aborts) its open
 * transaction, so markers and read_committed ends read afterwards are final.
 */
export async function openTaskProducer(kafka: Kafka, scope: string, task: string): Promise<Producer> {
  const producer = kafka.producer({
    transactionalId: `sluice-${scope}-${task}`,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60_000,
  });
  await producer.connect();
  try {
    const fence = await producer.transaction();
    await fence.abort();
  } catch (e) {
    await producer.disconnect().catch(() => undefined);
    throw e;
  }
  return producer;
}

/** Fences the tasks of a checkpoint lineage that no longer runs (a continuing lineage reads where it ended). */
export async function fenceTasks(kafka: Kafka, scope: string, tasks: string[]): Promise<void> {
  await Promise.all(tasks.map(async (task) => (await openTaskProducer(kafka, scope, task)).disconnect()));
}

export class TaskCommitter {
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly queryId: string,
    readonly task: string,
    readonly marker: MarkerKind,
    /** Consumer group whose offsets track this task's input (the marker for kafka-group). */
    private readonly groupId: string,
    private readonly checkpoint: CheckpointStore,
    private readonly postgres: PostgresTarget | undefined,
    /** max.message.bytes per output topic (kafka-limits.readMaxMessageBytes). */
    private readonly maxMessageBytes: ReadonlyMap<string, number> = new Map(),
  ) {}

  /**
   * Takes ownership: initialising the task's transactional producer fences any previous owner
   * and aborts its open transaction, so the marker read afterwards is final.
   */
  async open(): Promise<void> {
    this.producer = await openTaskProducer(this.kafka, this.queryId, this.task);
  }

  /** Has `entry` (a planned batch) already been made visible? */
  async isCommitted(
    admin: Parameters<typeof committedGroupOffsets>[0],
    entry: OffsetLogEntry,
  ): Promise<boolean> {
    if (this.marker === 'kafka-group') {
      const offsets = await committedGroupOffsets(admin, this.groupId, [entry.range.topic]);
      const meta = offsets.get(`${entry.range.topic}:${entry.range.partition}`)?.metadata;
      return (markerBatch(meta) ?? -1) >= entry.batchId;
    }
    if (this.marker === 'postgres' && this.postgres) {
      const batch = await committedBatch(this.postgres.pool, this.queryId, this.task);
      return batch !== undefined && batch >= entry.batchId;
    }
    return (await this.checkpoint.readCommit(this.task, entry.batchId)) !== undefined;
  }

  /**
   * Makes the batch's output visible with its marker. Returns how many sink rows were refused
   * for their data and became dead letters instead.
   */
  async commit(entry: OffsetLogEntry, output: TaskBatchOutput): Promise<{ refusedRows: number }> {
    let refusedRows = 0;
    if (this.marker === 'postgres' && this.postgres) {
      const pg = this.postgres;
      const batch: SinkBatch = {
        queryId: this.queryId,
        task: this.task,
        batchId: entry.batchId,
        table: pg.table,
        columns: pg.columns,
        key: pg.key,
        rows: output.pgRows,
      };
      const refusal = output.pgRefused;
      // The batch's dead letters are committed to Kafka inside the DB transaction, just before
      // its COMMIT: a failure before that point (the database unreachable, say) sends none, and
      // a crash between the two commits can repeat a dead letter but never lose one.
      const attempt = (isolate: boolean): Promise<number> =>
        withTransaction(pg.pool, async (client) => {
          const batches = [...output.kafka];
          let refused = 0;
          if (isolate && refusal) {
            const rows = await upsertBatchIsolating(client, batch);
            refused = rows.length;
            batches.push({
              topic: refusal.topic,
              messages: rows.map((r) => refusal.deadLetter(r.index, r.reason)),
            });
          } else {
            await upsertBatch(client, batch);
          }
          if (batches.some((b) => b.messages.length > 0)) await this.kafkaTransaction(batches, undefined);
          return refused;
        });
      try {
        refusedRows = await attempt(false);
      } catch (err) {
        // A row refused for its data: find it and commit everything else with the marker.
        if (!refusal || !isRowDataError(err)) throw err;
        refusedRows = await attempt(true);
      }
    } else if (this.marker === 'kafka-group' || output.kafka.some((t) => t.messages.length > 0)) {
      await this.kafkaTransaction(output.kafka, this.marker === 'kafka-group' ? entry : undefined);
    }
    for (const line of output.consoleLines) process.stdout.write(`${line}\n`);
    return { refusedRows };
  }

  /** One Kafka transaction with `batches` and, for the kafka-group marker, the batch's offsets. */
  private async kafkaTransaction(
    batches: TaskBatchOutput['kafka'],
    markerOf: OffsetLogEntry | undefined,
  ): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new Error(`task ${this.task}: committer not opened`);
    const txn = await producer.transaction();
    try {
      for (const batch of batches) {
        if (batch.messages.length === 0) continue;
        // Kafka refuses a record batch above the topic's max.message.bytes; kafkajs sends all of a
        // partition's messages of one send() as one batch, so large outputs go in several sends.
        for (const messages of chunkBySize(
          batch.messages,
          this.maxMessageBytes.get(batch.topic) ?? DEFAULT_MAX_MESSAGE_BYTES,
        )) {
          await txn.send({ topic: batch.topic, messages });
        }
      }
      if (markerOf) {
        // kafkajs passes `metadata` through to TxnOffsetCommit although its types omit it.
        const partition = {
          partition: markerOf.range.partition,
          offset: String(markerOf.range.end),
          metadata: `${MARKER_PREFIX}${markerOf.batchId}`,
        };
        await txn.sendOffsets({
          consumerGroupId: this.groupId,
          topics: [{ topic: markerOf.range.topic, partitions: [partition] }],
        });
      }
      await txn.commit();
    } catch (err) {
      // The commit's own error is the one to report; an abort that fails leaves the transaction to
      // time out on the broker, and the next batch's producer fences it anyway.
      await txn.abort().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    // Closing at a task's release or shutdown: the batch is committed or aborted by now, nothing to lose.
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}
