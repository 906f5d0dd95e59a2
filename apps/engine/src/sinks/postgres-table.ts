// The PostgreSQL sink's target table and the per-task batch markers that make it exactly-once:
// rows are upserted on the spec's key in the same transaction that records "task T committed
// batch B", so a replayed batch either finds its marker (skip) or rewrites the same rows.
import type { ColumnType } from '@sluice/query-plan';
import type { Pool, PoolClient } from 'pg';
import type { OutputColumn } from './format-row';

const PG_TYPES: Record<ColumnType, string> = {
  string: 'text',
  long: 'bigint',
  int: 'integer',
  double: 'double precision',
  boolean: 'boolean',
  timestamp: 'timestamptz',
};

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `schema.table` or `table` → quoted identifier. */
export function quoteTable(table: string): string {
  return table.split('.').map(quoteIdent).join('.');
}

export async function ensureSinkTables(pool: Pool, table: string, columns: OutputColumn[], key: string[]): Promise<void> {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${PG_TYPES[c.type]}`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (${cols.join(', ')}${key.length ? `, PRIMARY KEY (${key.map(quoteIdent).join(', ')})` : ''})`,
  );
  await pool.query('CREATE SCHEMA IF NOT EXISTS sluice_engine');
  await pool.query(
    `CREATE TABLE IF NOT EXISTS sluice_engine.sink_commits (
       query_id text NOT NULL, task text NOT NULL, batch_id bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (query_id, task))`,
  );
}

export async function committedBatch(pool: Pool, queryId: string, task: string): Promise<number | undefined> {
  const r = await pool.query<{ batch_id: string }>('SELECT batch_id FROM sluice_engine.sink_commits WHERE query_id = $1 AND task = $2', [queryId, task]);
  const row = r.rows[0];
  return row ? Number(row.batch_id) : undefined;
}

function toPgValue(v: unknown, type: ColumnType): unknown {
  if (v === undefined || v === null) return null;
  if (type === 'timestamp' && typeof v === 'number') return new Date(v);
  return v;
}

/**
 * Another writer (an earlier run of this task, or a previous owner that has not noticed it lost
 * the partition) already committed this batch or a later one: this attempt must not land.
 */
export class BatchAlreadyCommittedError extends Error {
  constructor(readonly task: string, readonly batchId: number) {
    super(`task ${task}: batch ${batchId} (or a later one) is already committed in PostgreSQL`);
    this.name = 'BatchAlreadyCommittedError';
  }
}

/**
 * Upserts rows and the batch marker atomically. The marker is claimed first and only moves
 * forward: its row lock serialises concurrent owners of the task, and a stale owner (whose batch
 * is not newer than the marker) rolls back instead of overwriting newer results with older ones.
 * Rows are chunked to stay under PG's 65535 parameters.
 */
export async function upsertBatch(
  client: PoolClient,
  args: { queryId: string; task: string; batchId: number; table: string; columns: OutputColumn[]; key: string[]; rows: Array<Record<string, unknown>> },
): Promise<void> {
  const claimed = await client.query(
    `INSERT INTO sluice_engine.sink_commits (query_id, task, batch_id) VALUES ($1, $2, $3)
     ON CONFLICT (query_id, task) DO UPDATE SET batch_id = EXCLUDED.batch_id, committed_at = now()
     WHERE sink_commits.batch_id < EXCLUDED.batch_id`,
    [args.queryId, args.task, args.batchId],
  );
  if (claimed.rowCount === 0) throw new BatchAlreadyCommittedError(args.task, args.batchId);
  const { columns, key } = args;
  const names = columns.map((c) => quoteIdent(c.name)).join(', ');
  const updates = columns.filter((c) => !key.includes(c.name)).map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`);
  const conflict = key.length === 0 ? '' : updates.length ? ` ON CONFLICT (${key.map(quoteIdent).join(', ')}) DO UPDATE SET ${updates.join(', ')}` : ` ON CONFLICT DO NOTHING`;
  const perChunk = Math.max(1, Math.floor(60_000 / columns.length));
  for (let i = 0; i < args.rows.length; i += perChunk) {
    const chunk = args.rows.slice(i, i + perChunk);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => `(${columns.map((c) => `$${params.push(toPgValue(row[c.name], c.type))}`).join(', ')})`);
    await client.query(`INSERT INTO ${quoteTable(args.table)} (${names}) VALUES ${tuples.join(', ')}${conflict}`, params);
  }
}
