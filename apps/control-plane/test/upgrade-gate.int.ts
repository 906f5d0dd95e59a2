// The health gate of new-checkpoint upgrades on the real stack (PostgreSQL, Redis, Kafka, real
// engines), for versions whose sink cannot take what they write, while records keep arriving:
//   1. a sink table whose column type the version cannot write: every output row goes to dead
//      letters, every batch commits. An aggregation into one group per window outputs a row for
//      hundreds of input rows, so its invalid-row rate stays under the allowance (BENCHMARKS.md
//      "Upgrades", issue 14's gate): the dead-letter rate of output rows fails it;
//   2. a sink table with a generated column: every trigger that has rows for the sink fails
//      (its source tasks still commit to the repartition topic).
// Both are rolled back automatically; the query ends RUNNING on the last good version on its
// own checkpoint, which reads on from where it stopped: every record counted there, once.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import {
  eventually,
  killTestInstances,
  operationOutcome,
  startTestApp,
  type Operation as Op,
  type OperationStep as Step,
  type TestApp,
} from './support/test-app';
import { isolatedStack, type IsolatedStack } from './upgrade-support';
import { REDIS_INDEXES } from './support/redis-indexes';
import {
  CLICK_QUERY_FOOTER,
  clickSourceLines,
  ClickProducer,
  expectedWindows,
  firstIds,
  totalClicks,
  windowRows,
} from './support/click-windows';

const suffix = randomUUID().slice(0, 8);
const topic = `it-upgrade-gate-${suffix}`;
const tables = {
  good: `upg_gate_${suffix}`,
  uuid: `upg_gate_uuid_${suffix}`,
  generated: `upg_gate_gen_${suffix}`,
};
const kafka = createKafka({
  brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
  clientId: 'it-upgrade-gate',
});

const header = clickSourceLines(`upgrade-gate-${suffix}`, topic);
const footer = CLICK_QUERY_FOOTER;

/** The good version: a count per user and minute. */
const perUser = [
  ...header,
  '  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(amount) AS amount',
  `  FROM clicks GROUP BY window(ts, '1 minute'), user_id`,
  'sink:',
  `  postgres: { table: ${tables.good}, key: [window_start, user_id] }`,
  ...footer,
].join('\n');

/** An incompatible version (another grouping): one row per 2-minute window, into `table`. */
const perWindow = (table: string) =>
  [
    ...header,
    '  SELECT window.start AS window_start, count(*) AS clicks, sum(amount) AS amount',
    `  FROM clicks GROUP BY window(ts, '2 minutes')`,
    'sink:',
    `  postgres: { table: ${table}, key: [window_start] }`,
    ...footer,
  ].join('\n');

let t: TestApp;
let stack: IsolatedStack;
const sharedEnv = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
let sinkDb: Pool;
let queryId: string;

interface QueryView {
  phase: string;
  desired: { version: number; checkpointEpoch: number; instances: number };
  observed: { lastGoodVersion: number | null };
}

const feed = new ClickProducer(kafka, topic);
const sinkRows = (table: string) => windowRows(sinkDb, table);

const rowCount = (table: string) =>
  sinkDb.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`).then((r) => Number(r.rows[0]!.n));

const finished = (op: { id: string }) => operationOutcome(t, op.id);

const query = () => t.call<QueryView>('GET', `/api/v1/queries/${queryId}`).then((r) => r.body);

/** Upgrades to `version` on a new checkpoint while records arrive; expects the automatic rollback. */
async function failingUpgrade(version: number): Promise<{ op: Op; gate: Step }> {
  const producing = feed.produce(8000, 500);
  await new Promise((r) => setTimeout(r, 2000));
  const upgrade = await t.call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, {
    version,
    strategy: 'new-checkpoint',
    startingOffsets: 'continue',
  });
  expect(upgrade.status).toBe(202);
  const op = await finished(upgrade.body);
  await producing;
  expect(op.state).toBe('FAILED');
  expect(op.error).toMatch(/rolled back to version 1, which is running/);
  expect(op.steps.slice(-2).map((s) => [s.name, s.state])).toEqual([
    ['roll back: drain new version', 'done'],
    ['roll back: start last good version', 'done'],
  ]);
  const q = await query();
  expect(q).toMatchObject({ phase: 'RUNNING', desired: { version: 1, checkpointEpoch: 0 } });
  expect(q.observed.lastGoodVersion).toBe(1);
  // Version 1's checkpoint reads on from where it stopped: every record counted in its table, once.
  const rows = await eventually(
    () => sinkRows(tables.good),
    (r) => totalClicks(r) >= feed.produced,
    120_000,
    'every record counted by the last good version',
  );
  expect(rows).toEqual(expectedWindows(firstIds(feed.produced), 60_000));
  return { op, gate: op.steps.find((s) => s.name === 'health gate')! };
}

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
  await admin.disconnect();
  sinkDb = new Pool({ connectionString: process.env.SLUICE_SINK_DATABASE_URL });
  // `clicks` as uuid: a count is refused for its data (SQLSTATE 22P02), row by row: dead letters.
  await sinkDb.query(
    `CREATE TABLE ${tables.uuid} (window_start timestamptz PRIMARY KEY, clicks uuid, amount bigint)`,
  );
  // `clicks` generated: no INSERT may write it (SQLSTATE 428C9, not a data error): the batch fails.
  await sinkDb.query(
    `CREATE TABLE ${tables.generated} (window_start timestamptz PRIMARY KEY, clicks bigint GENERATED ALWAYS AS (0) STORED, amount bigint)`,
  );
  stack = await isolatedStack('sluice_it_upgrade_gate', REDIS_INDEXES.upgradeGate);
  Object.assign(process.env, stack.env);
  t = await startTestApp({ SLUICE_CLUSTER_NAME: `it-upgrade-gate-${suffix}` });

  const created = await t.call<{ id: string; operation: { id: string } }>('POST', '/api/v1/queries', perUser);
  expect(created.status).toBe(201);
  queryId = created.body.id;
  expect((await finished(created.body.operation)).state).toBe('SUCCEEDED');
  const scaled = await t.call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 2 });
  expect((await finished(scaled.body)).state).toBe('SUCCEEDED');
  for (const table of [tables.uuid, tables.generated]) {
    const v = await t.call<{ version: number; compatibility: { compatible: boolean } }>(
      'POST',
      `/api/v1/queries/${queryId}/versions`,
      perWindow(table),
    );
    expect(v.body.compatibility.compatible).toBe(false);
  }
  await feed.produce(1500, 500);
}, 300_000);

afterAll(async () => {
  await t?.close();
  if (t) killTestInstances(t.home);
  for (const table of Object.values(tables))
    await sinkDb?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await sinkDb?.end();
  Object.assign(process.env, sharedEnv);
  await stack?.drop();
});

describe('the health gate of a new-checkpoint upgrade whose sink cannot take its rows', () => {
  it('fails a version whose every output row goes to dead letters, showing the figures it judged, and rolls back', async () => {
    const { op, gate } = await failingUpgrade(2);
    expect(gate.state).toBe('failed');
    expect(op.error).toMatch(/health gate failed: dead-letter rate of output rows 100\.00 %/);
    // The figures it judged: the old version's rows before, the new one's after.
    const f = gate.figures!;
    expect(f.deadLetteredOutputRows as number).toBeGreaterThan(0);
    expect(f.outputRows).toBe(f.deadLetteredOutputRows);
    expect(f).toMatchObject({ deadLetterRateAfter: 1, deadLetterRateBefore: 0, invalidRateBefore: 0 });
    expect(f.inputRowsBefore as number).toBeGreaterThan(0);
    expect(f.outputRowsBefore as number).toBeGreaterThan(0);
    expect(f.invalidRows as number).toBeGreaterThan(0);
    expect(f.inputRows as number).toBeGreaterThan(0);
    // Dead letters are no batches: a gate counting them would have passed. (An idle report of a
    // caught-up instance, or a sink batch whose windows output nothing yet, may still count: CI
    // run 16 saw one.)
    expect(f.refusedBatches as number).toBeGreaterThan(0);
    expect(f.batches as number).toBeLessThan(f.requiredBatches as number);
    expect(await rowCount(tables.uuid)).toBe(0);
  }, 600_000);

  it('fails a version whose triggers fail (its source tasks still commit), and rolls back', async () => {
    const { op } = await failingUpgrade(3);
    const failed = op.steps.find((s) => s.state === 'failed')!;
    expect(['start new version', 'health gate']).toContain(failed.name);
    // Three failures in a row on one instance, or the engine's exit after five.
    expect(op.error).toMatch(/triggers in a row failed on|crashed/);
    expect(await rowCount(tables.generated)).toBe(0);
  }, 600_000);
});
