// Makes one task's batch output visible exactly once, through its target (the sink, or the
// repartition topic for the source stage of a stateful plan): the target commits the output
// atomically with its marker (sinks/sink.ts) on the task's transactional writer, which fences
// any previous owner when the task is taken over.
import type { CheckpointStore, OffsetLogEntry } from '../checkpoint/checkpoint-store';
import type { BatchTarget, MarkerKind, TaskBatchOutput } from '../sinks/sink';
import { markerBatch, type OutputLog, type TaskOutputWriter, type TriggerTransaction } from './output-log';

export class TaskCommitter {
  private writer: TaskOutputWriter | undefined;

  constructor(
    private readonly log: OutputLog,
    readonly task: string,
    private readonly target: BatchTarget,
    /** Consumer group whose offsets track this task's input (the marker for kafka-group). */
    private readonly groupId: string,
    private readonly checkpoint: CheckpointStore,
  ) {}

  get marker(): MarkerKind {
    return this.target.marker;
  }

  /**
   * Takes ownership: opening the task's transactional writer fences any previous owner and
   * aborts its open transaction, so the marker read afterwards is final.
   */
  async open(): Promise<void> {
    this.writer = await this.log.open(this.task);
  }

  /**
   * Completes any transaction of the writer that planned `entry` (its offset-log `writer`), so the
   * marker read next is final even when that batch was to commit in another instance's trigger
   * transaction (the task's own producer, fenced by open(), covers the rest).
   */
  async fenceWriterOf(entry: OffsetLogEntry): Promise<void> {
    if (entry.writer) await this.log.fenceWriter?.(entry.writer);
  }

  /**
   * Has `entry` (a planned batch) already been made visible? A yes is final; a no is final only
   * `stable` (once the writers that could still commit it are fenced: OutputLog.groupMarker).
   */
  isCommitted(entry: OffsetLogEntry, stable = false): Promise<boolean> {
    return this.target.isCommitted({
      task: this.task,
      entry,
      groupMarkerBatch: async () =>
        markerBatch(
          await this.log.groupMarker(this.groupId, entry.range.topic, entry.range.partition, stable),
        ),
      inCommitLog: async () => (await this.checkpoint.readCommit(this.task, entry.batchId)) !== undefined,
    });
  }

  /**
   * Makes the batch's output visible with its marker. Returns how many sink rows were refused
   * for their data and became dead letters instead. With `planWritten` (the batch's offset-log
   * write, still under way) nothing becomes visible before it resolves: a kafka-group target's
   * transactions send their records and marker meanwhile and wait for it only before they commit;
   * any other target waits for it first. With `shared`, the batch's marker transaction is the
   * trigger's shared one (kafka-output-log.ts) instead of the task's own.
   */
  async commit(
    entry: OffsetLogEntry,
    output: TaskBatchOutput,
    planWritten?: Promise<void>,
    shared?: TriggerTransaction,
  ): Promise<{ refusedRows: number }> {
    const writer = this.writer;
    if (!writer) throw new Error(`task ${this.task}: committer not opened`);
    const inTransaction = planWritten !== undefined && this.target.marker === 'kafka-group';
    if (planWritten && !inTransaction) await planWritten;
    const beforeCommit = inTransaction ? () => planWritten : undefined;
    const result = await this.target.commit({
      task: this.task,
      entry,
      output,
      sendKafka: (batches, withMarker) =>
        shared && withMarker
          ? shared.transaction(this.task, batches, { groupId: this.groupId, entry }, beforeCommit)
          : writer.transaction(
              batches,
              withMarker ? { groupId: this.groupId, entry } : undefined,
              beforeCommit,
            ),
    });
    // A target that sent nothing has not waited yet: its batch counts only once its plan is durable.
    if (planWritten) await planWritten;
    return result;
  }

  async close(): Promise<void> {
    await this.writer?.close();
    this.writer = undefined;
  }
}
