// The PostgreSQL sink's batch marker against the real database: rows and marker land together,
// and a writer whose batch is not newer than the marker (a replay after an ambiguous commit, or
// an owner that lost the partition without noticing) rolls back without touching the rows.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/pg/with-transaction';
import type { OutputColumn } from '../src/sinks/format-row';
import { BatchAlreadyCommittedError, committedBatch, ensureSinkTables, upsertBatch } from '../src/sinks/postgres-table';

let pool: Pool;
const table = `it_sink_${randomUUID().slice(0, 8)}`;
const queryId = `it-sink-${randomUUID()}`;
const columns: OutputColumn[] = [
  { name: 'user_id', type: 'string' },
  { name: 'clicks', type: 'long' },
];

const write = (batchId: number, clicks: number) =>
  withTransaction(pool, (client) => upsertBatch(client, { queryId, task: 'shuffle.0', batchId, table, columns, key: ['user_id'], rows: [{ user_id: 'u1', clicks }] }));
const clicksOf = async () => Number((await pool.query<{ clicks: string }>(`SELECT clicks FROM ${table} WHERE user_id = 'u1'`)).rows[0]?.clicks);

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
