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
import { withTransaction } from '../pg/with-transaction';
import { committedBatch, upsertBatch } from '../sinks/postgres-table';

export type MarkerKind = 'kafka-group' | 'postgres' | 'checkpoint';

export interface TaskBatchOutput {
  /** Records for Kafka: DLQ, repartition or the Kafka sink. */
  kafka: Array<{ topic: string; messages: Message[] }>;
  /** Rows for the PostgreSQL sink (already in output-column form). */
  pgRows: Array<Record<string, unknown>>;
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
  ) {}

  /**
   * Takes ownership: initialising the task's transactional producer fences any previous owner
   * and aborts its open transaction, so the marker read afterwards is final.
   */
  async open(): Promise<void> {
    const producer = this.kafka.producer({
      transactionalId: `sluice-${this.queryId}-${this.task}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
    });
    await producer.connect();
    this.producer = producer;
    const fence = await producer.transaction();
    await fence.abort();
  }

  /** Has `entry` (a planned batch) already been made visible? */
  async isCommitted(admin: Parameters<typeof committedGroupOffsets>[0], entry: OffsetLogEntry): Promise<boolean> {
    if (this.marker === 'kafka-group') {
      const offsets = await committedGroupOffsets(admin, this.groupId, [entry.range.topic]);
      const meta = offsets.get(`${entry.range.topic}:${entry.range.partition}`)?.metadata ?? '';
      const batch = meta.startsWith(MARKER_PREFIX) ? Number(meta.slice(MARKER_PREFIX.length)) : -1;
      return batch >= entry.batchId;
    }
    if (this.marker === 'postgres' && this.postgres) {
      const batch = await committedBatch(this.postgres.pool, this.queryId, this.task);
      return batch !== undefined && batch >= entry.batchId;
    }
    return (await this.checkpoint.readCommit(this.task, entry.batchId)) !== undefined;
  }

  async commit(entry: OffsetLogEntry, output: TaskBatchOutput): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new Error(`task ${this.task}: committer not opened`);
    const hasKafka = output.kafka.some((t) => t.messages.length > 0);
    if (this.marker === 'kafka-group' || hasKafka) {
      const txn = await producer.transaction();
      try {
        for (const batch of output.kafka) if (batch.messages.length > 0) await txn.send({ topic: batch.topic, messages: batch.messages });
        if (this.marker === 'kafka-group') {
          // kafkajs passes `metadata` through to TxnOffsetCommit although its types omit it.
          const partition = { partition: entry.range.partition, offset: String(entry.range.end), metadata: `${MARKER_PREFIX}${entry.batchId}` };
          await txn.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic: entry.range.topic, partitions: [partition] }] });
        }
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => undefined);
        throw err;
      }
    }
    if (this.marker === 'postgres' && this.postgres) {
      const pg = this.postgres;
      await withTransaction(pg.pool, (client) =>
        upsertBatch(client, { queryId: this.queryId, task: this.task, batchId: entry.batchId, table: pg.table, columns: pg.columns, key: pg.key, rows: output.pgRows }),
      );
    }
    for (const line of output.consoleLines) process.stdout.write(`${line}\n`);
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}
