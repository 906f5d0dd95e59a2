// The sink of `engine test`: rows kept in memory (as the Kafka sink would write them: output
// columns, timestamps as ISO-8601), committed with a per-task marker in one step, so a batch
// re-run after a restart lands once — the same contract as the PostgreSQL sink's marker.
import type { Row } from '@sluice/query-plan';
import { toJsonRow, type OutputColumn } from '../sinks/format-row';
import {
  sendNonEmpty,
  type CommitContext,
  type MarkerContext,
  type Sink,
  type TaskBatchOutput,
} from '../sinks/sink';

export class MemorySink implements Sink {
  readonly marker = 'memory' as const;
  readonly description = 'MemorySink';
  readonly topics = [];
  readonly guard = undefined;
  private readonly markers = new Map<string, number>();
  private pending: Array<Record<string, unknown>> = [];

  constructor(private readonly columns: OutputColumn[]) {}

  async prepare(): Promise<void> {}

  stage(rows: Row[], output: TaskBatchOutput): void {
    output.sinkRows.push(...rows);
  }

  async commit(ctx: CommitContext): Promise<{ refusedRows: number }> {
    const last = this.markers.get(ctx.task);
    if (last !== undefined && last >= ctx.entry.batchId)
      throw new Error(`task ${ctx.task}: batch ${ctx.entry.batchId} (or a later one) is already committed`);
    // Dead letters first: should they fail, neither rows nor marker land (the batch re-runs).
    await sendNonEmpty(ctx);
    this.pending.push(...ctx.output.sinkRows.map((row) => toJsonRow(row, this.columns)));
    this.markers.set(ctx.task, ctx.entry.batchId);
    return { refusedRows: 0 };
  }

  async isCommitted(ctx: MarkerContext): Promise<boolean> {
    return (this.markers.get(ctx.task) ?? -1) >= ctx.entry.batchId;
  }

  /** Rows committed since the last call. */
  take(): Array<Record<string, unknown>> {
    const rows = this.pending;
    this.pending = [];
    return rows;
  }

  async close(): Promise<void> {}
}
