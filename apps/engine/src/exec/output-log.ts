// Where a task's Kafka output goes (dead letters, the repartition topic, the Kafka sink) and where
// the kafka-group marker lives: one transaction per batch holding the records and, when asked,
// the consumer-group offset whose metadata names the batch. The engine uses Kafka
// (kafka-output-log.ts); the query test harness uses an in-memory log with the same contract.
import type { Message } from 'kafkajs';
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';

export type OutputBatches = Array<{ topic: string; messages: Message[] }>;

export const MARKER_PREFIX = 'sluice-batch:';

/** The batch id a kafka-group marker's offset metadata names, if it is one. */
export function markerBatch(metadata: string | null | undefined): number | undefined {
  if (!metadata?.startsWith(MARKER_PREFIX)) return undefined;
  const batch = Number(metadata.slice(MARKER_PREFIX.length));
  return Number.isInteger(batch) ? batch : undefined;
}

export const markerMetadata = (batchId: number): string => `${MARKER_PREFIX}${batchId}`;

/** One task's transactional writer. */
export interface TaskOutputWriter {
  /**
   * Commits `batches` atomically; with `marker`, the group offset `marker.entry.range.end` of the
   * entry's partition (metadata = markerMetadata(batchId)) commits in the same transaction.
   * `beforeCommit` is awaited once everything is sent and before the commit: an error from it
   * aborts the transaction, so nothing becomes visible before what it waits for.
   */
  transaction(
    batches: OutputBatches,
    marker?: { groupId: string; entry: OffsetLogEntry },
    beforeCommit?: () => Promise<void>,
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * The trigger's shared transaction (kafka-output-log.ts): every task expected in it commits its
 * batch through `transaction` or gives it up with `withdraw`; the records and markers of all of
 * them commit in one Kafka transaction, or none does.
 */
export interface TriggerTransaction {
  /** As TaskOutputWriter.transaction, for `task`; settles when the trigger's transaction does. */
  transaction(
    task: string,
    batches: OutputBatches,
    marker: { groupId: string; entry: OffsetLogEntry },
    beforeCommit?: () => Promise<void>,
  ): Promise<void>;
  withdraw(task: string): void;
}

export interface OutputLog {
  /**
   * Takes ownership of a task's writer: opening fences any previous owner and aborts its open
   * transaction, so a marker read afterwards is final.
   */
  open(task: string): Promise<TaskOutputWriter>;
  /**
   * The metadata of the group's committed offset for a partition (the kafka-group marker). With
   * `stable`, waits out a transaction that holds the partition's offsets (still open or writing its
   * markers): call it so only once the writers that could hold them are fenced.
   */
  groupMarker(
    groupId: string,
    topic: string,
    partition: number,
    stable?: boolean,
  ): Promise<string | undefined>;
  /**
   * Completes every transaction of the writer named in an offset-log entry (`writer`) that is not
   * this log's own: a batch planned by another instance's shared producer may still be open there.
   */
  fenceWriter?(writer: string): Promise<void>;
}
