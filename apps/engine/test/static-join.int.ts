// Stream–static join on the real stack: the PostgreSQL table reader (types, caps) against the
// real database, and the engine end to end — Kafka orders joined with a PostgreSQL customers
// table into a Kafka topic, the table re-read at its refresh interval, and a failed refresh that
// keeps the last good copy and shows in progress.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '@sluice/kafka';
import { compileSpec, instantiate, type TableSpec } from '@sluice/query-plan';
import { postgresTableReader, StaticTableCache } from '../src/source/static-table';
import {
  EngineSuite,
  eventually,
  progressOf,
  readAll,
  tempDir,
  writeSpec,
  type EngineProcess,
} from './support/engine-harness';

const suite = new EngineSuite('static-join-int');
let pool: Pool;
let engine: EngineProcess | undefined;
const tables: string[] = [];

beforeAll(() => {
  pool = new Pool({ connectionString: process.env.DATABASE_URL });
});

afterAll(async () => {
  for (const t of tables) await pool.query(`DROP TABLE IF EXISTS ${t}`);
  await pool.end();
});

async function customersTable(): Promise<string> {
  const table = `it_customers_${randomUUID().slice(0, 8)}`;
  tables.push(table, `${table}_gone`);
  await pool.query(
    `CREATE TABLE ${table} (id bigint, name text, tier text, vip boolean, since timestamptz, score double precision)`,
  );
  await pool.query(
    `INSERT INTO ${table} VALUES (1, 'Ada', 'gold', true, '2026-01-01T00:00:00Z', 1.5),
       (2, 'Bob', 'silver', false, NULL, NULL), (3, NULL, 'bronze', NULL, '2025-06-01T12:00:00.250Z', 2)`,
  );
  return table;
}

const tableSpec = (table: string, caps: Partial<TableSpec> = {}): TableSpec => ({
  table,
  connection: 'default',
  schema: { id: 'long', name: 'string', tier: 'string', vip: 'boolean', since: 'timestamp', score: 'double' },
  refreshMs: 1000,
  maxRows: 100,
  maxBytes: 1024 * 1024,
  ...caps,
});

function joinOf(table: string) {
  const compiled = compileSpec(`name: q
sources:
  orders:
    kafka: { topic: orders }
    schema: { order_id: long, customer_id: long }
tables:
  customers: { table: ${table}, schema: { id: long, name: string, tier: string, vip: boolean, since: timestamp, score: double } }
sql: SELECT o.order_id, c.* FROM orders o JOIN customers c ON o.customer_id = c.id
sink: { console: {} }
`);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return instantiate(compiled.plan).staticJoin!;
}

describe('static table reader (PostgreSQL)', () => {
  it('reads every column type as the join expects it', async () => {
    const table = await customersTable();
    const rows = await postgresTableReader(() => pool)('customers', tableSpec(table));
    const join = joinOf(table);
    const index = join.index(rows);
    expect(index.rows).toBe(3);
    expect(join.join({ order_id: 7, customer_id: 3 }, index)).toEqual([
      {
        order_id: 7,
        customer_id: 3,
        'customers.id': 3,
        'customers.name': null,
        'customers.tier': 'bronze',
        'customers.vip': null,
        'customers.since': Date.UTC(2025, 5, 1, 12, 0, 0, 250),
        'customers.score': 2,
      },
    ]);
    expect(join.join({ order_id: 8, customer_id: 1 }, index)[0]).toMatchObject({
      'customers.vip': true,
      'customers.since': Date.UTC(2026, 0, 1),
      'customers.score': 1.5,
    });
  });

  it('refuses a table over maxRows or maxBytes before loading it, naming the cap', async () => {
    const table = await customersTable();
    const read = postgresTableReader(() => pool);
    await expect(read('customers', tableSpec(table, { maxRows: 2 }))).rejects.toThrow(
      'more than maxRows 2 rows; raise tables.customers.maxRows',
    );
    await expect(read('customers', tableSpec(table, { maxBytes: 10 }))).rejects.toThrow(
      /bytes, more than maxBytes 10; raise tables\.customers\.maxBytes/,
    );
  });

  it('keeps the last good copy when a refresh fails, and reports it', async () => {
    const table = await customersTable();
    const logged: string[] = [];
    const cache = new StaticTableCache(
      'customers',
      tableSpec(table),
      joinOf(table),
      postgresTableReader(() => pool),
      (m) => logged.push(m),
    );
    await cache.ensureFresh(0);
    expect(cache.status()).toMatchObject({ table: 'customers', rows: 3 });
    await pool.query(`ALTER TABLE ${table} RENAME TO ${table}_gone`);
    await cache.ensureFresh(500); // within the interval: not re-read
    expect(cache.status().error).toBeUndefined();
    await cache.ensureFresh(1000);
    expect(cache.status()).toMatchObject({ rows: 3, error: expect.stringMatching(/does not exist/) });
    expect(cache.index.rows).toBe(3);
    expect(logged.join('\n')).toMatch(/still joining with the copy read before/);
    await pool.query(`ALTER TABLE ${table}_gone RENAME TO ${table}`);
    await pool.query(`DELETE FROM ${table} WHERE id = 3`);
    await cache.ensureFresh(2000);
    expect(cache.status()).toEqual(expect.not.objectContaining({ error: expect.anything() }));
    expect(cache.index.rows).toBe(2);
  });

  it('fails the first load (no copy to fall back on) with the table named', async () => {
    const spec = tableSpec(`it_missing_${randomUUID().slice(0, 8)}`);
    const cache = new StaticTableCache(
      'customers',
      spec,
      joinOf(spec.table),
      postgresTableReader(() => pool),
      () => {},
    );
    await expect(cache.ensureFresh(0)).rejects.toThrow(
      /^table "customers" \(it_missing_\w+\): .*does not exist/,
    );
  });
});

describe('engine: stream–static join', () => {
  it('joins Kafka orders with a PostgreSQL table, re-reads it at the refresh interval and survives a failed refresh', async () => {
    const table = await customersTable();
    const input = `it-orders-${randomUUID()}`;
    const output = `it-orders-out-${randomUUID()}`;
    const queryId = `it-sj-${randomUUID()}`;
    await ensureTopics(suite.admin, [{ topic: input, numPartitions: 2 }]);
    const send = (ids: number[], customer: (id: number) => number) =>
      suite.producer.send({
        topic: input,
        messages: ids.map((id) => ({ value: JSON.stringify({ order_id: id, customer_id: customer(id) }) })),
      });
    await send([1, 2, 3, 4], (id) => id); // 4 has no customer
    const progress = await progressOf(suite.kafka, suite.admin, queryId);
    const events = progress.events;
    const dir = tempDir('static-join');
    const spec = writeSpec(
      dir,
      `name: it-static-join
sources:
  orders:
    kafka: { topic: ${input}, startingOffsets: earliest }
    schema: { order_id: long, customer_id: long }
tables:
  customers:
    table: ${table}
    schema: { id: long, tier: string }
    refresh: 1 second
sql: |
  SELECT o.order_id, c.tier FROM orders o LEFT OUTER JOIN customers c ON o.customer_id = c.id
sink:
  kafka: { topic: ${output} }
trigger: { processingTime: 200 milliseconds }
`,
    );
    try {
      engine = suite.launch({
        spec,
        checkpoint: path.join(dir, 'checkpoint'),
        queryId,
        instance: 'a',
        // The table's connection as the control plane would resolve it (the sink is Kafka here).
        env: { SLUICE_TABLE_POSTGRES_URLS: JSON.stringify({ default: process.env.DATABASE_URL }) },
      });
      const first = (await readAll(suite.kafka, output, 4)).map((r) => JSON.parse(r.value) as object);
      expect(first).toEqual(
        expect.arrayContaining([
          { order_id: 1, tier: 'gold' },
          { order_id: 2, tier: 'silver' },
          { order_id: 3, tier: 'bronze' },
          { order_id: 4, tier: null },
        ]),
      );
      expect(first).toHaveLength(4);

      // The table changes: orders after the next refresh see the new tier.
      await pool.query(`UPDATE ${table} SET tier = 'platinum' WHERE id = 1`);
      await new Promise((r) => setTimeout(r, 1500));
      await send([5], () => 1);
      const second = await readAll(suite.kafka, output, 5);
      expect(second.map((r) => JSON.parse(r.value) as object)).toContainEqual({
        order_id: 5,
        tier: 'platinum',
      });

      // The table disappears: the engine keeps joining with its last copy and says so in progress.
      await pool.query(`ALTER TABLE ${table} RENAME TO ${table}_gone`);
      await eventually(
        async () => events.some((e) => e.sluice?.staticTables?.[0]?.error?.includes('does not exist')),
        60_000,
        'progress reporting the failed refresh',
      );
      await send([6], () => 1);
      const third = await readAll(suite.kafka, output, 6);
      expect(third.map((r) => JSON.parse(r.value) as object)).toContainEqual({
        order_id: 6,
        tier: 'platinum',
      });
      expect(third).toHaveLength(6); // exactly once: nothing repeated
      const last = events.at(-1)!;
      expect(last.sluice?.staticTables?.[0]).toMatchObject({ table: 'customers', rows: 3 });
      expect(engine.child.exitCode).toBeNull();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- engine output ---\n${engine?.output().slice(-3000)}`);
    } finally {
      await progress.stop();
    }
  });
});
