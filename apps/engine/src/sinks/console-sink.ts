// Console sink (demo): JSON lines on stdout after the batch's Kafka records (dead letters)
// commit; the marker is the checkpoint's commit log, so a crash can repeat lines (at-least-once).
import type { Row } from '@sluice/query-plan';
import { toJsonRow, type OutputColumn } from './format-row';
import {
  sendNonEmpty,
  type CommitContext,
  type MarkerContext,
  type Sink,
  type TaskBatchOutput,
} from './sink';

export class ConsoleSink implements Sink {
  readonly marker = 'checkpoint' as const;
  readonly description = 'ConsoleSink';
  readonly topics = [];
  readonly guard = undefined;

  constructor(
    private readonly columns: OutputColumn[],
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  async prepare(): Promise<void> {}

  stage(rows: Row[], output: TaskBatchOutput): void {
    output.sinkRows.push(...rows);
  }

  async commit(ctx: CommitContext): Promise<{ refusedRows: number }> {
    await sendNonEmpty(ctx);
    for (const row of ctx.output.sinkRows) this.write(`${JSON.stringify(toJsonRow(row, this.columns))}\n`);
    return { refusedRows: 0 };
  }

  isCommitted(ctx: MarkerContext): Promise<boolean> {
    return ctx.inCommitLog();
  }

  async close(): Promise<void> {}
}
