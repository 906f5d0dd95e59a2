// An engine whose database goes away (PostgreSQL sink and PostgreSQL checkpoint store) waits
// and carries on instead of crashing: the database is reached through a loopback proxy that the
// test cuts and restores (the shared PostgreSQL server itself keeps running for other suites).
// Input keeps arriving during the outage; afterwards every record is counted exactly once.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '@sluice/kafka';
import {
  eventually,
  startEngine,
  tempDir,
  testKafka,
  writeSpec,
  type EngineProcess,
} from './support/engine-harness';
import { TcpProxy } from '@sluice/testing';

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let pool: Pool;
let proxy: TcpProxy;
let engine: EngineProcess | undefined;
const table = `it_outage_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

beforeAll(async () => {
  kafka = testKafka('outage-int');
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  pool = new Pool({ connectionString: process.env.DATABASE_URL });
  const db = new URL(process.env.DATABASE_URL!);
  proxy = await TcpProxy.start(db.hostname, Number(db.port || 5432));
});

afterAll(async () => {
  if (engine?.child.exitCode === null) engine.child.kill('SIGKILL');
  await proxy.close();
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await producer.disconnect();
  await admin.disconnect();
  await pool.end();
});

const viaProxy = (): string => {
  const url = new URL(process.env.DATABASE_URL!);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
};

const sumClicks = async (): Promise<number> => {
  const r = await pool
    .query<{ n: string }>(`SELECT coalesce(sum(clicks), 0) AS n FROM ${table}`)
    .catch(() => undefined);
  return Number(r?.rows[0]?.n ?? 0);
};

describe('database outage', () => {
  it('waits for an unreachable database at start and mid-run, then finishes exactly once', async () => {
    const input = `it-outage-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
    const dir = tempDir('outage');
    const spec = writeSpec(
      dir,
      `name: it-outage
sources:
  clicks:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { id: long, user_id: string }
sql: SELECT user_id, count(*) AS clicks FROM clicks GROUP BY user_id
sink:
  postgres: { table: ${table}, key: [user_id] }
outputMode: update
trigger: { processingTime: 100 milliseconds }
options: { numShufflePartitions: 2, maxOffsetsPerTrigger: 200 }
`,
    );
    let produced = 0;
    const produce = async (n: number) => {
      const messages = Array.from({ length: n }, (_, i) => ({
        value: JSON.stringify({ id: produced + i, user_id: `u${(produced + i) % 7}` }),
      }));
      produced += n;
      await producer.send({ topic: input, messages });
    };
    await produce(300);

    // Down before the engine even starts: it must wait, not exit.
    await proxy.cut();
    const url = viaProxy();
    engine = startEngine({
      spec,
      checkpoint: url,
      queryId,
      instance: 'a',
      env: { SLUICE_SINK_POSTGRES_URL: url },
    });
    await eventually(
      async () => engine!.output().includes('checkpoint database unreachable'),
      30_000,
      'a start-up warning',
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect(engine.child.exitCode).toBeNull();
    await proxy.restore();
    await eventually(async () => (await sumClicks()) >= 300, 60_000, 'the first records after start-up');

    // Down mid-run for 15 s while input keeps arriving.
    const cutAt = Date.now();
    await proxy.cut();
    while (Date.now() - cutAt < 15_000) {
      await produce(50);
      await new Promise((r) => setTimeout(r, 1000));
      expect(engine.child.exitCode).toBeNull();
    }
    const logged = engine.output();
    expect(logged).toMatch(/"level":40[^\n]*database unreachable/);
    await proxy.restore();
    await produce(100);

    await eventually(async () => (await sumClicks()) >= produced, 60_000, `all ${produced} records counted`);
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate would show up now
    const rows = await pool.query<{ user_id: string; clicks: string }>(
      `SELECT user_id, clicks FROM ${table} ORDER BY user_id`,
    );
    const expected = new Map<string, number>();
    for (let id = 0; id < produced; id++) expected.set(`u${id % 7}`, (expected.get(`u${id % 7}`) ?? 0) + 1);
    expect(Object.fromEntries(rows.rows.map((r) => [r.user_id, Number(r.clicks)]))).toEqual(
      Object.fromEntries([...expected].sort()),
    );
    expect(engine.output()).toContain('reachable again');
    expect(engine.child.exitCode).toBeNull();

    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
  }, 180_000);
});
