// PostgreSQL sink: rows upserted on the spec's key in the same transaction that moves the task's
// row in `sluice_engine.sink_commits` (the marker). The batch's dead letters are committed to
// Kafka inside the DB transaction, just before its COMMIT: a failure before that point (the
// database unreachable, say) sends none, and a crash between the two commits can repeat a dead
// letter but never lose one.
import type { Pool } from 'pg';
import type { Row } from '@sluice/query-plan';
import { isRowDataError } from '../pg/pg-errors';
import { withTransaction } from '../pg/with-transaction';
import { postgresRowGuard, type RowGuard } from '../exec/record-guards';
import type { OutputColumn } from './format-row';
import {
  committedBatch,
  ensureSinkTables,
  quoteTable,
  upsertBatch,
  upsertBatchIsolating,
  type SinkBatch,
} from './postgres-table';
import type { CommitContext, MarkerContext, Sink, SinkPrepareContext, TaskBatchOutput } from './sink';

export class PostgresSink implements Sink {
  readonly marker = 'postgres' as const;
  readonly description: string;
  readonly topics = [];
  readonly guard: RowGuard;

  constructor(
    private readonly pool: Pool,
    /** Names the markers: checkpointScope(queryId, epoch). */
    private readonly scope: string,
    private readonly table: string,
    private readonly columns: OutputColumn[],
    private readonly key: string[],
    /** The query's DLQ topic: rows the table refuses for their data go there. */
    private readonly deadLetterTopic: string,
  ) {
    this.description = `PostgresSink[${table}]`;
    this.guard = postgresRowGuard(columns, key);
  }

  async prepare(ctx: SinkPrepareContext): Promise<void> {
    await ctx.waitFor('sink database', () => ensureSinkTables(this.pool, this.table, this.columns, this.key));
  }

  /** The table must exist and take INSERTs from this role. */
  async probe(): Promise<string | undefined> {
    const r = await this.pool.query<{ ok: boolean }>(`SELECT has_table_privilege($1, 'INSERT') AS ok`, [
      quoteTable(this.table),
    ]);
    return r.rows[0]?.ok ? undefined : `no INSERT privilege on table ${this.table}`;
  }

  stage(
    rows: Row[],
    output: TaskBatchOutput,
    deadLetter: NonNullable<TaskBatchOutput['sinkRefused']>['deadLetter'],
  ): void {
    output.sinkRows.push(...rows);
    output.sinkRefused = { topic: this.deadLetterTopic, deadLetter };
  }

  async commit(ctx: CommitContext): Promise<{ refusedRows: number }> {
    const { output, entry } = ctx;
    const batch: SinkBatch = {
      queryId: this.scope,
      task: ctx.task,
      batchId: entry.batchId,
      table: this.table,
      columns: this.columns,
      key: this.key,
      rows: output.sinkRows,
    };
    const refusal = output.sinkRefused;
    const attempt = (isolate: boolean): Promise<number> =>
      withTransaction(this.pool, async (client) => {
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
        if (batches.some((b) => b.messages.length > 0)) await ctx.sendKafka(batches, false);
        return refused;
      });
    try {
      return { refusedRows: await attempt(false) };
    } catch (err) {
      // A row refused for its data: find it and commit everything else with the marker.
      if (!refusal || !isRowDataError(err)) throw err;
      return { refusedRows: await attempt(true) };
    }
  }

  async isCommitted(ctx: MarkerContext): Promise<boolean> {
    const batch = await committedBatch(this.pool, this.scope, ctx.task);
    return batch !== undefined && batch >= ctx.entry.batchId;
  }

  committedBatchOf(scope: string, task: string): Promise<number | undefined> {
    return committedBatch(this.pool, scope, task);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
