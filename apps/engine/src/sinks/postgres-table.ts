// The PostgreSQL sink's target table and the per-task batch markers that make it exactly-once:
// rows are upserted on the spec's key in the same transaction that records "task T committed
// batch B", so a replayed batch either finds its marker (skip) or rewrites the same rows.
import type { ColumnType } from '@sluice/query-plan';
import type { Pool, PoolClient } from 'pg';
import { describePgError, isRowDataError } from '../pg/pg-errors';
import { withTransaction } from '../pg/with-transaction';
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

/** Advisory lock that serialises the engines' sink DDL in one database. */
const SINK_DDL_LOCK_KEY = 0x51c3_0002;

export async function ensureSinkTables(
  pool: Pool,
  table: string,
  columns: OutputColumn[],
  key: string[],
): Promise<void> {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${PG_TYPES[c.type]}`);
  // Under a lock: instances starting together on a new table (a deploy with several instances,
  // an upgrade to a renamed table) would otherwise race in `CREATE … IF NOT EXISTS`, which
  // PostgreSQL does not make atomic (the loser fails on pg_type's unique index).
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SINK_DDL_LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (${cols.join(', ')}${key.length ? `, PRIMARY KEY (${key.map(quoteIdent).join(', ')})` : ''})`,
    );
    await client.query('CREATE SCHEMA IF NOT EXISTS sluice_engine');
    await client.query(
      `CREATE TABLE IF NOT EXISTS sluice_engine.sink_commits (
         query_id text NOT NULL, task text NOT NULL, batch_id bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (query_id, task))`,
    );
  });
}

export async function committedBatch(pool: Pool, queryId: string, task: string): Promise<number | undefined> {
  const r = await pool.query<{ batch_id: string }>(
    'SELECT batch_id FROM sluice_engine.sink_commits WHERE query_id = $1 AND task = $2',
    [queryId, task],
  );
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
  constructor(
    readonly task: string,
    readonly batchId: number,
  ) {
    super(`task ${task}: batch ${batchId} (or a later one) is already committed in PostgreSQL`);
    this.name = 'BatchAlreadyCommittedError';
  }
}

export interface SinkBatch {
  queryId: string;
  task: string;
  batchId: number;
  table: string;
  columns: OutputColumn[];
  key: string[];
  rows: Array<Record<string, unknown>>;
}

/** A row PostgreSQL refused for its data; `index` points into SinkBatch.rows. */
export interface RefusedRow {
  index: number;
  reason: string;
}

/**
 * Claims the batch marker: it only moves forward, and its row lock serialises concurrent owners
 * of the task, so a stale owner (whose batch is not newer than the marker) rolls back instead of
 * overwriting newer results with older ones.
 */
async function claimMarker(client: PoolClient, args: SinkBatch): Promise<void> {
  const claimed = await client.query(
    `INSERT INTO sluice_engine.sink_commits (query_id, task, batch_id) VALUES ($1, $2, $3)
     ON CONFLICT (query_id, task) DO UPDATE SET batch_id = EXCLUDED.batch_id, committed_at = now()
     WHERE sink_commits.batch_id < EXCLUDED.batch_id`,
    [args.queryId, args.task, args.batchId],
  );
  if (claimed.rowCount === 0) throw new BatchAlreadyCommittedError(args.task, args.batchId);
}

interface IndexedRow {
  index: number;
  row: Record<string, unknown>;
}

/**
 * The rows in rounds holding one row per key, in output order: round 0 has every key's first
 * row, round 1 the second ones, and so on. Written round after round, each key ends with its
 * last row, exactly as if the rows were upserted one by one — and should the database refuse a
 * later row, the earlier one still stands. (One INSERT … ON CONFLICT DO UPDATE may not touch a
 * row twice, "cannot affect row a second time": two rows of one key in a batch failed it.)
 */
function roundsPerKey(rows: Array<Record<string, unknown>>, key: string[]): IndexedRow[][] {
  const seen = new Map<string, number>();
  const rounds: IndexedRow[][] = [];
  rows.forEach((row, index) => {
    const k = JSON.stringify(key.map((c) => row[c] ?? null));
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    (rounds[n] ??= []).push({ index, row });
  });
  return rounds;
}

function insertStatement(args: SinkBatch): {
  perChunk: number;
  run: (client: PoolClient, rows: IndexedRow[]) => Promise<unknown>;
} {
  const { columns, key } = args;
  const names = columns.map((c) => quoteIdent(c.name)).join(', ');
  const updates = columns
    .filter((c) => !key.includes(c.name))
    .map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`);
  const conflict =
    key.length === 0
      ? ''
      : updates.length
        ? ` ON CONFLICT (${key.map(quoteIdent).join(', ')}) DO UPDATE SET ${updates.join(', ')}`
        : ` ON CONFLICT DO NOTHING`;
  return {
    // Chunked to stay under PostgreSQL's 65535 parameters per statement.
    perChunk: Math.max(1, Math.floor(60_000 / columns.length)),
    run: (client, rows) => {
      const params: unknown[] = [];
      const tuples = rows.map(
        ({ row }) => `(${columns.map((c) => `$${params.push(toPgValue(row[c.name], c.type))}`).join(', ')})`,
      );
      return client.query(
        `INSERT INTO ${quoteTable(args.table)} (${names}) VALUES ${tuples.join(', ')}${conflict}`,
        params,
      );
    },
  };
}

/** Upserts rows and the batch marker in the caller's transaction; any refusal fails it all. */
export async function upsertBatch(client: PoolClient, args: SinkBatch): Promise<void> {
  await claimMarker(client, args);
  const insert = insertStatement(args);
  for (const rows of roundsPerKey(args.rows, args.key)) {
    for (let i = 0; i < rows.length; i += insert.perChunk)
      await insert.run(client, rows.slice(i, i + insert.perChunk));
  }
}

/**
 * The same, for a batch PostgreSQL refused for its data: every chunk runs under a savepoint and
 * a refused chunk is halved until the refused rows stand alone, so the other rows and the marker
 * still commit together. Returns the refused rows. Costs about 2·log2(chunk) statements per
 * refused row, paid only by batches that hold one.
 */
export async function upsertBatchIsolating(client: PoolClient, args: SinkBatch): Promise<RefusedRow[]> {
  await claimMarker(client, args);
  const insert = insertStatement(args);
  const refused: RefusedRow[] = [];
  const attempt = async (part: IndexedRow[]): Promise<void> => {
    await client.query('SAVEPOINT sluice_sink_rows');
    try {
      await insert.run(client, part);
      await client.query('RELEASE SAVEPOINT sluice_sink_rows');
      return;
    } catch (err) {
      if (!isRowDataError(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT sluice_sink_rows');
      await client.query('RELEASE SAVEPOINT sluice_sink_rows');
      if (part.length === 1) {
        refused.push({
          index: part[0]!.index,
          reason: `PostgreSQL refused the row: ${describePgError(err)}`,
        });
        return;
      }
    }
    const mid = Math.ceil(part.length / 2);
    await attempt(part.slice(0, mid));
    await attempt(part.slice(mid));
  };
  for (const rows of roundsPerKey(args.rows, args.key)) {
    for (let i = 0; i < rows.length; i += insert.perChunk) await attempt(rows.slice(i, i + insert.perChunk));
  }
  return refused.sort((a, b) => a.index - b.index);
}
