// What a task's batch output is committed to, and the query's sink. Each target owns its
// exactly-once marker ("task T finished batch B", made visible atomically with the output):
//  - kafka-group: one Kafka transaction holds the records and the consumer-group offset whose
//    metadata names the batch (the Kafka sink, and the repartition topic of stateful plans);
//  - postgres: the rows and a `sluice_engine.sink_commits` row in one DB transaction;
//  - file: the sink directory's metadata log (file-sink-log.ts), written after the data file;
//  - checkpoint: the checkpoint's commit log (console sink: at-least-once);
//  - memory: the in-memory sink's own per-task marker (the query test harness).
import type { Message } from 'kafkajs';
import type { Row } from '@sluice/query-plan';
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';
import type { RowGuard } from '../exec/record-guards';
import type { OutputBatches } from '../exec/output-log';

export type MarkerKind = 'kafka-group' | 'postgres' | 'file' | 'checkpoint' | 'memory';

export interface TaskBatchOutput {
  /** Records for Kafka: DLQ, repartition or the Kafka sink. */
  kafka: OutputBatches;
  /** Rows for a sink that is not Kafka (plan form: timestamps as epoch ms). */
  sinkRows: Row[];
  /**
   * Where a row the sink refuses for its data goes instead: the dead letter for sinkRows[index].
   * Without it such a refusal fails the batch.
   */
  sinkRefused?: { topic: string; deadLetter: (index: number, reason: string) => Message };
}

/** What a target needs to commit one batch. */
export interface CommitContext {
  task: string;
  entry: OffsetLogEntry;
  output: TaskBatchOutput;
  /** One transaction with `batches`; `withMarker` adds the batch's kafka-group marker to it. */
  sendKafka(batches: OutputBatches, withMarker: boolean): Promise<void>;
}

/** What a target needs to read its marker. */
export interface MarkerContext {
  task: string;
  entry: OffsetLogEntry;
  /** The batch id in the task's group offset metadata (kafka-group marker). */
  groupMarkerBatch(): Promise<number | undefined>;
  /** Is the batch in the checkpoint's commit log? */
  inCommitLog(): Promise<boolean>;
}

export interface BatchTarget {
  readonly marker: MarkerKind;
  /** Makes the batch visible with its marker; returns how many rows became dead letters instead. */
  commit(ctx: CommitContext): Promise<{ refusedRows: number }>;
  /** Has the planned batch already been made visible? */
  isCommitted(ctx: MarkerContext): Promise<boolean>;
}

/** Tasks whose output is Kafka records only, marked by the group offset (repartition stage). */
export const kafkaGroupTarget: BatchTarget = {
  marker: 'kafka-group',
  async commit(ctx) {
    await ctx.sendKafka(ctx.output.kafka, true);
    return { refusedRows: 0 };
  },
  async isCommitted(ctx) {
    return ((await ctx.groupMarkerBatch()) ?? -1) >= ctx.entry.batchId;
  },
};

/** Kafka records of a batch (dead letters) committed alone, when there are any. */
export async function sendNonEmpty(ctx: CommitContext): Promise<void> {
  if (ctx.output.kafka.some((b) => b.messages.length > 0)) await ctx.sendKafka(ctx.output.kafka, false);
}

export interface SinkPrepareContext {
  maxMessageBytes(topic: string): number;
  /** Retries `work` while its database is unreachable (database-outage.retryWhileUnavailable). */
  waitFor<T>(what: string, work: () => Promise<T>): Promise<T>;
}

export interface Sink extends BatchTarget {
  /** As Spark's progress `sink.description` (KafkaSink[topic], …). */
  readonly description: string;
  /** Kafka topics the sink writes, created at start. */
  readonly topics: Array<{ topic: string; numPartitions: number }>;
  /** Creates what the sink needs (tables); called once before the first batch. */
  prepare(ctx: SinkPrepareContext): Promise<void>;
  /** Per-row checks of what the sink can store (after prepare; undefined = takes anything). */
  readonly guard: RowGuard | undefined;
  /**
   * Adds rows to a batch's output. `deadLetter(i, reason)` is the dead letter for rows[i] should
   * the sink refuse it at commit; called once per batch.
   */
  stage(rows: Row[], output: TaskBatchOutput, deadLetter: (index: number, reason: string) => Message): void;
  /**
   * After a failed trigger: does the sink itself refuse (a reason the user can act on), or
   * undefined when it answers. Sinks whose refusal needs the broker are checked by the runner.
   */
  probe?(): Promise<string | undefined>;
  /** The marker of another checkpoint lineage's task (continuing upgrades), when the sink keeps one. */
  committedBatchOf?(scope: string, task: string): Promise<number | undefined>;
  close(): Promise<void>;
}

export const emptyOutput = (): TaskBatchOutput => ({ kafka: [], sinkRows: [] });
