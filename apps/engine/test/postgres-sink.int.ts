// The PostgreSQL sink's batch marker against the real database: rows and marker land together,
// and a writer whose batch is not newer than the marker (a replay after an ambiguous commit, or
// an owner that lost the partition without noticing) rolls back without touching the rows; rows
// the database refuses for their data are isolated so the rest of the batch still lands.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/pg/with-transaction';
import type { OutputColumn } from '../src/sinks/format-row';
import {
  BatchAlreadyCommittedError,
  committedBatch,
  ensureSinkTables,
  upsertBatch,
  upsertBatchIsolating,
} from '../src/sinks/postgres-table';

let pool: Pool;
const table = `it_sink_${randomUUID().slice(0, 8)}`;
const queryId = `it-sink-${randomUUID()}`;
const columns: OutputColumn[] = [
  { name: 'user_id', type: 'string' },
  { name: 'clicks', type: 'long' },
];

const write = (batchId: number, clicks: number) =>
  withTransaction(pool, (client) =>
    upsertBatch(client, {
      queryId,
      task: 'shuffle.0',
      batchId,
      table,
      columns,
      key: ['user_id'],
      rows: [{ user_id: 'u1', clicks }],
    }),
  );
const clicksOf = async () =>
  Number(
    (await pool.query<{ clicks: string }>(`SELECT clicks FROM ${table} WHERE user_id = 'u1'`)).rows[0]
      ?.clicks,
  );

beforeAll(async () => {
  pool = new Pool({ connectionString: process.env.DATABASE_URL });
  await ensureSinkTables(pool, table, columns, ['user_id']);
});
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.query('DELETE FROM sluice_engine.sink_commits WHERE query_id = $1', [queryId]);
  await pool.end();
});

describe('PostgreSQL sink marker', () => {
  it('commits rows with the marker and only moves the marker forward', async () => {
    await write(0, 3);
    await write(1, 5);
    expect(await committedBatch(pool, queryId, 'shuffle.0')).toBe(1);
    expect(await clicksOf()).toBe(5);

    // A stale owner still finishing batch 0, and a replay of batch 1: both roll back.
    await expect(write(0, 3)).rejects.toBeInstanceOf(BatchAlreadyCommittedError);
    await expect(write(1, 99)).rejects.toBeInstanceOf(BatchAlreadyCommittedError);
    expect(await clicksOf()).toBe(5);
    expect(await committedBatch(pool, queryId, 'shuffle.0')).toBe(1);
  });

  it('serialises two owners committing the same batch: exactly one lands', async () => {
    const results = await Promise.allSettled([write(2, 7), write(2, 7)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toBeInstanceOf(BatchAlreadyCommittedError);
    expect(await committedBatch(pool, queryId, 'shuffle.0')).toBe(2);
    expect(await clicksOf()).toBe(7);
  });
});

describe('PostgreSQL sink set-up', () => {
  it('lets instances starting together create the same new table: all succeed, one table', async () => {
    // Issue 20: two instances racing in CREATE TABLE IF NOT EXISTS failed on pg_type's unique
    // index. Each "instance" has its own pool (own connections), as separate engines would.
    const fresh = `it_race_${randomUUID().slice(0, 8)}`;
    const pools = Array.from({ length: 6 }, () => new Pool({ connectionString: process.env.DATABASE_URL }));
    try {
      const results = await Promise.allSettled(
        pools.map((p) => ensureSinkTables(p, fresh, columns, ['user_id'])),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const tables = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_class WHERE relname = $1 AND relkind = 'r'",
        [fresh],
      );
      expect(Number(tables.rows[0]?.n)).toBe(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await pool.query(`DROP TABLE IF EXISTS ${fresh}`);
    }
  });
});

describe('PostgreSQL sink rows refused for their data', () => {
  const refusingTable = `it_refuse_${randomUUID().slice(0, 8)}`;
  const cols: OutputColumn[] = [
    { name: 'id', type: 'long' },
    { name: 'note', type: 'string' },
    { name: 'bytes', type: 'long' },
  ];
  const batch = (batchId: number, rows: Array<Record<string, unknown>>) => ({
    queryId,
    task: 'src.t.0',
    batchId,
    table: refusingTable,
    columns: cols,
    key: ['id'],
    rows,
  });

  beforeAll(async () => {
    // The sink creates missing tables only; an operator's table may refuse rows by constraint.
    await pool.query(
      `CREATE TABLE ${refusingTable} (id bigint PRIMARY KEY, note text, bytes bigint CHECK (bytes >= 0))`,
    );
  });
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${refusingTable}`);
  });

  it('isolates the refused rows; the others land with the marker in one transaction', async () => {
    const rows = [
      { id: 1, note: 'a', bytes: 1 },
      { id: 2, note: 'b', bytes: -5 }, // CHECK violation (23514)
      { id: 3, note: 'c', bytes: 3 },
      { id: 4, note: 'x'.repeat(10), bytes: 9_223_372_036_854_775_807n * 2n }, // bigint out of range (22003)
      { id: 5, note: 'e', bytes: 5 },
      { id: 6, note: 'f', bytes: 6 },
      { id: 6, note: 'f again', bytes: -6 }, // refused; the earlier row of its key stands
    ];
    await expect(withTransaction(pool, (c) => upsertBatch(c, batch(0, rows)))).rejects.toMatchObject({
      code: expect.stringMatching(/^2[23]/),
    });
    expect(await committedBatch(pool, queryId, 'src.t.0')).toBeUndefined();

    const refused = await withTransaction(pool, (c) => upsertBatchIsolating(c, batch(0, rows)));
    expect(refused.map((r) => r.index)).toEqual([1, 3, 6]);
    expect(refused[0]?.reason).toMatch(/^PostgreSQL refused the row: SQLSTATE 23514: .*check constraint/);
    expect(refused[1]?.reason).toContain('SQLSTATE 22003');
    const landed = await pool.query<{ id: string; note: string }>(
      `SELECT id, note FROM ${refusingTable} ORDER BY id`,
    );
    expect(landed.rows.map((r) => [Number(r.id), r.note])).toEqual([
      [1, 'a'],
      [3, 'c'],
      [5, 'e'],
      [6, 'f'],
    ]);
    expect(await committedBatch(pool, queryId, 'src.t.0')).toBe(0);
  });

  it('writes one row per key when a batch holds a key twice: the last one wins', async () => {
    await withTransaction(pool, (c) =>
      upsertBatch(
        c,
        batch(1, [
          { id: 10, note: 'first', bytes: 1 },
          { id: 11, note: 'other', bytes: 1 },
          { id: 10, note: 'second', bytes: 2 },
        ]),
      ),
    );
    const r = await pool.query<{ id: string; note: string }>(
      `SELECT id, note FROM ${refusingTable} WHERE id IN (10, 11) ORDER BY id`,
    );
    expect(r.rows).toEqual([
      { id: '10', note: 'second' },
      { id: '11', note: 'other' },
    ]);
  });
});
