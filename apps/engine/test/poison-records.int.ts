// Records that used to fail a query (found by an attacker) now become dead letters while the
// good records around them land exactly once and the engine keeps running: a 10 KB group key
// (beyond a PostgreSQL btree entry), 800 KB of invalid UTF-8 (its dead letter is cut to fit the
// DLQ topic), a NUL character (PostgreSQL text cannot hold it), a row the sink table refuses by
// constraint, and an output record larger than the sink topic accepts. Real Kafka + PostgreSQL.
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dlqTopic } from '@sluice/contracts';
import { ensureTopics } from '@sluice/kafka';
import type { DeadLetter } from '../src/exec/dead-letter';
import { PG_MAX_KEY_BYTES } from '../src/exec/record-guards';
import {
  eventually,
  readAll,
  startEngine,
  tempDir,
  testKafka,
  writeSpec,
  type EngineProcess,
} from './support/engine-harness';

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let pool: Pool;
const engines: EngineProcess[] = [];
const tables: string[] = [];

beforeAll(async () => {
  kafka = testKafka('poison-int');
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  pool = new Pool({ connectionString: process.env.DATABASE_URL });
});

afterAll(async () => {
  for (const e of engines) if (e.child.exitCode === null) e.child.kill('SIGKILL');
  for (const t of tables) await pool.query(`DROP TABLE IF EXISTS ${t}`);
  await producer.disconnect();
  await admin.disconnect();
  await pool.end();
});

const good = (id: number) => ({
  key: String(id),
  value: JSON.stringify({ id, user_id: `u${id % 20}`, note: `n${id}`, bytes: id % 100 }),
});
const json = (o: Record<string, unknown>) => ({ value: JSON.stringify(o) });
/** 800 KB that decode as nothing: 0xff never occurs in UTF-8. */
const invalidUtf8 = () => ({
  value: Buffer.concat([
    Buffer.from('{"id":1,"user_id":"'),
    Buffer.alloc(800_000, 0xff),
    Buffer.from('","bytes":1}'),
  ]),
});
/** Random text does not compress, so PostgreSQL cannot squeeze it into an index entry either. */
const hugeKey = () => randomBytes(5000).toString('hex'); // 10,000 bytes

function launch(o: Parameters<typeof startEngine>[0]): EngineProcess {
  const e = startEngine(o);
  engines.push(e);
  return e;
}

async function deadLetters(queryId: string, n: number): Promise<DeadLetter[]> {
  return (await readAll(kafka, dlqTopic(queryId), n)).map((r) => JSON.parse(r.value) as DeadLetter);
}

/** The engine never retried a batch (a refused record used to fail its batch until exit). */
function expectNoFailedBatch(engine: EngineProcess): void {
  expect(engine.child.exitCode).toBeNull();
  expect(engine.output()).not.toContain('trigger failed');
  expect(engine.output()).not.toContain('5 consecutive triggers failed');
}

describe('poison records', () => {
  it('aggregation into PostgreSQL: bad records are dead letters, every good record counts once', async () => {
    const input = `it-poison-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    const table = `it_poison_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    tables.push(table);
    await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
    // The operator's table refuses negative totals; the sink only creates tables that are missing.
    await pool.query(
      `CREATE TABLE ${table} (user_id text, clicks bigint, bytes bigint CHECK (bytes >= 0), PRIMARY KEY (user_id))`,
    );
    const bigKey = hugeKey();
    const messages = [
      ...Array.from({ length: 100 }, (_, i) => good(i)),
      json({ id: 1000, user_id: bigKey, note: '', bytes: 1 }),
      ...Array.from({ length: 100 }, (_, i) => good(100 + i)),
      invalidUtf8(),
      ...Array.from({ length: 100 }, (_, i) => good(200 + i)),
      json({ id: 1001, user_id: 'nul\u0000user', note: '', bytes: 1 }),
      json({ id: 1002, user_id: 'negative', note: '', bytes: -5 }),
      ...Array.from({ length: 300 }, (_, i) => good(300 + i)),
    ];
    // One at a time: the 800 KB record must not share a produce batch with the others.
    for (const [i, m] of messages.entries())
      await producer.send({ topic: input, messages: [{ ...m, partition: i % 2 }] });
    const dir = tempDir('poison-agg');
    const spec = writeSpec(
      dir,
      `name: it-poison-agg
sources:
  clicks:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { id: long, user_id: string, note: string, bytes: long }
sql: SELECT user_id, count(*) AS clicks, sum(bytes) AS bytes FROM clicks GROUP BY user_id
sink:
  postgres: { table: ${table}, key: [user_id] }
outputMode: update
trigger: { processingTime: 100 milliseconds }
options: { numShufflePartitions: 2, maxOffsetsPerTrigger: 120 }
`,
    );
    const engine = launch({ spec, checkpoint: path.join(dir, 'checkpoint'), queryId, instance: 'a' });

    const expected = new Map<string, { clicks: number; bytes: number }>();
    for (let id = 0; id < 600; id++) {
      const e = expected.get(`u${id % 20}`) ?? { clicks: 0, bytes: 0 };
      e.clicks++;
      e.bytes += id % 100;
      expected.set(`u${id % 20}`, e);
    }
    const total = 600;
    await eventually(
      async () => {
        const r = await pool.query<{ n: string }>(`SELECT coalesce(sum(clicks), 0) AS n FROM ${table}`);
        return Number(r.rows[0]!.n) >= total;
      },
      90_000,
      'every good record aggregated',
    );
    const dead = await deadLetters(queryId, 4);
    await new Promise((r) => setTimeout(r, 1500)); // a late extra row or dead letter would show now

    const got = await pool.query<{ user_id: string; clicks: string; bytes: string }>(
      `SELECT * FROM ${table} ORDER BY user_id`,
    );
    expect(
      Object.fromEntries(
        got.rows.map((r) => [r.user_id, { clicks: Number(r.clicks), bytes: Number(r.bytes) }]),
      ),
    ).toEqual(Object.fromEntries(expected));

    expect(dead).toHaveLength(4);
    const byReason = (re: RegExp) => dead.filter((d) => re.test(d.reason));
    const [key] = byReason(/^sink key \(user_id\) is 10000 bytes/);
    expect(key?.reason).toContain(`at most ${PG_MAX_KEY_BYTES} bytes`);
    expect(key).toMatchObject({ stage: 'output', source: { topic: input }, encoding: 'utf8' });
    expect(JSON.parse(key!.value!).user_id).toBe(bigKey);

    const [utf8] = byReason(/^value is not valid UTF-8/);
    expect(utf8).toMatchObject({
      stage: 'input',
      encoding: 'base64',
      truncated: true,
      originalBytes: invalidUtf8().value.length,
    });
    expect(Buffer.from(utf8!.value!, 'base64').subarray(0, 19).toString()).toBe('{"id":1,"user_id":"');

    expect(byReason(/^column "user_id" contains a NUL character/)).toHaveLength(1);

    const [refused] = byReason(/^PostgreSQL refused the row: SQLSTATE 23514/);
    // An aggregated row has no single source record: the dead letter carries the row itself.
    expect(refused).toMatchObject({ stage: 'output', source: null, encoding: 'json' });
    expect(JSON.parse(refused!.value!)).toEqual({ user_id: 'negative', clicks: 1, bytes: -5 });
    expect(refused!.batch?.task).toMatch(/^shuffle\.\d$/);

    expectNoFailedBatch(engine);
    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
  }, 180_000);

  it('stateless into PostgreSQL: refused rows are dead letters with their source record, repeated keys land once', async () => {
    const input = `it-poison-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    const table = `it_poison_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    tables.push(table);
    await ensureTopics(admin, [{ topic: input, numPartitions: 1 }]);
    await pool.query(
      `CREATE TABLE ${table} (id bigint PRIMARY KEY, user_id text, note text, bytes bigint CHECK (bytes >= 0))`,
    );
    const messages = [
      ...Array.from({ length: 50 }, (_, i) => good(i)),
      json({ id: 900, user_id: 'x', note: 'has \u0000 inside', bytes: 1 }),
      json({ id: 901, user_id: 'x', note: 'negative', bytes: -1 }),
      json({ id: 7, user_id: 'u7', note: 'replaced', bytes: 7 }), // same key as good(7), later
      ...Array.from({ length: 50 }, (_, i) => good(50 + i)),
    ];
    await producer.send({ topic: input, messages });
    const dir = tempDir('poison-stateless');
    const spec = writeSpec(
      dir,
      `name: it-poison-stateless
sources:
  clicks:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { id: long, user_id: string, note: string, bytes: long }
sql: SELECT id, user_id, note, bytes FROM clicks
sink:
  postgres: { table: ${table}, key: [id] }
outputMode: append
trigger: { processingTime: 100 milliseconds }
`,
    );
    const engine = launch({ spec, checkpoint: path.join(dir, 'checkpoint'), queryId, instance: 'a' });
    await eventually(
      async () =>
        Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n) >= 100,
      60_000,
      'good rows',
    );
    const dead = await deadLetters(queryId, 2);
    await new Promise((r) => setTimeout(r, 1500));

    const rows = await pool.query<{ id: string; note: string }>(`SELECT id, note FROM ${table} ORDER BY id`);
    expect(rows.rows.map((r) => Number(r.id))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(rows.rows.find((r) => r.id === '7')?.note).toBe('replaced');

    expect(dead).toHaveLength(2);
    const nul = dead.find((d) => d.reason.startsWith('column "note" contains a NUL character'));
    expect(nul).toMatchObject({ stage: 'output', source: { topic: input, partition: 0, offset: 50 } });
    const refused = dead.find((d) => d.reason.startsWith('PostgreSQL refused the row: SQLSTATE 23514'));
    // A stateless row maps back to its record: the dead letter is that record, ready to replay.
    expect(refused).toMatchObject({
      stage: 'output',
      source: { topic: input, partition: 0, offset: 51 },
      encoding: 'utf8',
    });
    expect(JSON.parse(refused!.value!)).toMatchObject({ id: 901, bytes: -1 });

    expectNoFailedBatch(engine);
    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
  }, 120_000);

  it('Kafka sink: an output larger than the sink topic takes is a cut dead letter; a batch above 1 MB in total still commits', async () => {
    const input = `it-poison-${randomUUID()}`;
    const output = `it-poison-out-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    // The source accepts 3 MB records; the sink topic keeps Kafka's default of ~1 MB.
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '3000000' }] },
      ],
      waitForLeaders: true,
    });
    const big = json({ id: 5000, user_id: 'big', note: 'y'.repeat(1_500_000), bytes: 1 });
    // 3,000 records of ~1 KB: one batch, ~3 MB of output for one partition of the sink topic.
    const filler = (id: number) => json({ id, user_id: `u${id}`, note: 'z'.repeat(1000), bytes: 1 });
    await producer.send({ topic: input, messages: Array.from({ length: 500 }, (_, i) => filler(i)) });
    await producer.send({ topic: input, messages: [big] });
    for (let i = 500; i < 3000; i += 500)
      await producer.send({ topic: input, messages: Array.from({ length: 500 }, (_, k) => filler(i + k)) });
    const dir = tempDir('poison-kafka');
    const spec = writeSpec(
      dir,
      `name: it-poison-kafka
sources:
  clicks:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { id: long, user_id: string, note: string, bytes: long }
sql: SELECT id, note FROM clicks
sink:
  kafka: { topic: ${output} }
outputMode: append
trigger: { processingTime: 200 milliseconds }
`,
    );
    await ensureTopics(admin, [{ topic: output, numPartitions: 1 }]);
    const engine = launch({ spec, checkpoint: path.join(dir, 'checkpoint'), queryId, instance: 'a' });
    const rows = (await readAll(kafka, output, 3000, 90_000)).map(
      (r) => (JSON.parse(r.value) as { id: number }).id,
    );
    expect(rows).toHaveLength(3000);
    expect(new Set(rows).size).toBe(3000);
    expect(rows).not.toContain(5000);

    const [dead] = await deadLetters(queryId, 1);
    expect(dead?.reason).toMatch(
      new RegExp(`^output record is \\d+ bytes; topic ${output} takes at most \\d+ bytes per record`),
    );
    expect(dead).toMatchObject({
      stage: 'output',
      truncated: true,
      originalBytes: Buffer.byteLength(big.value),
      source: { offset: 500 },
    });
    expectNoFailedBatch(engine);
    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
  }, 150_000);
});
