// A new-checkpoint upgrade that rolls back before its pre-started engines are released, on the
// real stack (PostgreSQL, Redis, Kafka, real engines, the local runtime), while records arrive:
//   - one old instance is frozen (SIGSTOP) before the upgrade: it acknowledges no drain, so the
//     drain step kills it after SLUICE_OPERATION_TIMEOUT_MS (short here) and goes on;
//   - while the drain waits, the new version's sink connection stops resolving (its environment
//     variable is unset on the control plane): the start step cannot start anything, so no
//     standby is ever released.
// The upgrade rolls back to version 1 on its own checkpoint. Checked: the operation's outcome and
// reason, version 1 RUNNING again (the killed instance's open batch replayed: every record counted
// once), no standby process left, and what became of the new checkpoint (forgotten: nothing ran
// on it) and of the sink table its standbys prepared (kept, empty).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointScope, repartitionTopic } from '@sluice/contracts';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import {
  eventually,
  killTestInstances,
  operationOutcome,
  startTestApp,
  type Operation as Op,
  type TestApp,
} from './support/test-app';
import { isolatedStack, type IsolatedStack } from './upgrade-support';
import { REDIS_INDEXES } from './support/redis-indexes';
import {
  clickWindowSpec,
  ClickProducer,
  expectedWindows,
  firstIds,
  totalClicks,
  windowRows,
} from './support/click-windows';

const suffix = randomUUID().slice(0, 8);
const topic = `it-upgrade-rollback-${suffix}`;
const tables = { old: `upg_rb_a_${suffix}`, next: `upg_rb_b_${suffix}` };
const connection = `rb-${suffix}`;
/** The variable the new version's connection reads its URL from (unset mid-upgrade). */
const urlEnv = `SLUICE_SINK_URL_RB_${suffix.toUpperCase()}`;
/** Short, so the frozen instance is killed within the test; long enough for an engine to start. */
const OPERATION_TIMEOUT_MS = 20_000;
const kafka = createKafka({
  brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
  clientId: 'it-upgrade-rollback',
});

const spec = (table: string, connection?: string) =>
  clickWindowSpec({ name: `upgrade-rollback-${suffix}`, topic, table, connection });

let t: TestApp;
let stack: IsolatedStack;
const sharedEnv = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
let sinkDb: Pool;
let controlDb: Pool;
let queryId: string;
const feed = new ClickProducer(kafka, topic);

interface QueryView {
  phase: string;
  desired: { version: number; checkpointEpoch: number; instances: number };
  observed: { lastGoodVersion: number | null };
}

const query = () => t.call<QueryView>('GET', `/api/v1/queries/${queryId}`).then((r) => r.body);
const instanceDir = (name: string) => path.join(t.home, 'instances', queryId, name);
const readPid = (file: string): number | null =>
  fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : null;
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const instanceNames = () => fs.readdirSync(path.join(t.home, 'instances', queryId)).sort();

async function topicExists(name: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(name);
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
  await admin.disconnect();
  sinkDb = new Pool({ connectionString: process.env.SLUICE_SINK_DATABASE_URL });
  stack = await isolatedStack('sluice_it_upgrade_rollback', REDIS_INDEXES.upgradeRollback);
  Object.assign(process.env, stack.env);
  controlDb = new Pool({ connectionString: stack.env.DATABASE_URL });
  t = await startTestApp({
    SLUICE_CLUSTER_NAME: `it-upgrade-rollback-${suffix}`,
    SLUICE_OPERATION_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS),
  });
  // The new version's connection: the same sink database under another name, through a variable.
  process.env[urlEnv] = process.env.SLUICE_SINK_DATABASE_URL;
  const registered = await t.call('POST', '/api/v1/sink-connections', { name: connection, urlEnv });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);

  const created = await t.call<{ id: string; operation: { id: string } }>(
    'POST',
    '/api/v1/queries',
    spec(tables.old),
  );
  expect(created.status).toBe(201);
  queryId = created.body.id;
  expect((await operationOutcome(t, created.body.operation.id)).state).toBe('SUCCEEDED');
  const scaled = await t.call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 2 });
  expect((await operationOutcome(t, scaled.body.id)).state).toBe('SUCCEEDED');
  const v2 = await t.call<{ version: number }>(
    'POST',
    `/api/v1/queries/${queryId}/versions`,
    spec(tables.next, connection),
  );
  expect(v2.body.version).toBe(2);
  await feed.produce(1500, 500);
  await eventually(
    () => windowRows(sinkDb, tables.old),
    (rows) => totalClicks(rows) >= feed.produced,
    120_000,
    'version 1 counted the first records',
  );
}, 300_000);

afterAll(async () => {
  await t?.close();
  if (t) killTestInstances(t.home);
  delete process.env[urlEnv];
  for (const table of Object.values(tables))
    await sinkDb?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await sinkDb?.end();
  await controlDb?.end();
  Object.assign(process.env, sharedEnv);
  await stack?.drop();
});

describe('a new-checkpoint upgrade that fails before its standbys are released', () => {
  it('rolls back to version 1 on its checkpoint: RUNNING, every record once, no standby left, the new checkpoint forgotten', async () => {
    const names = instanceNames();
    expect(names).toHaveLength(2);
    const frozen = names[0]!;
    const frozenPid = readPid(path.join(instanceDir(frozen), 'pid'))!;
    const producing = feed.produce(4000, 400);
    await new Promise((r) => setTimeout(r, 2000));

    // Frozen just before the request: it will acknowledge no drain and exit on no SIGTERM.
    process.kill(frozenPid, 'SIGSTOP');
    const upgrade = await t.call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, {
      version: 2,
      strategy: 'new-checkpoint',
      startingOffsets: 'earliest',
    });
    expect(upgrade.status, JSON.stringify(upgrade.body)).toBe(202);

    // Once the drain was requested, both successors stand by (their pids in standby.pid) ...
    const drainStep = await eventually(
      () =>
        t
          .call<Op>('GET', `/api/v1/operations/${upgrade.body.id}`)
          .then((r) => r.body.steps.find((s) => s.name === 'drain old version')),
      (s) => Array.isArray(s?.figures?.drainCommands) || s?.state === 'done' || s?.state === 'failed',
      60_000,
      'the drain requested',
    );
    expect(drainStep?.state).toBe('running');
    expect(drainStep?.figures).toMatchObject({ prestarted: 2, prestartReady: 2 });
    const standbyPids = names.map((n) => readPid(path.join(instanceDir(n), 'standby.pid')));
    expect(standbyPids.every((p) => p !== null && alive(p))).toBe(true);
    // ... and the new version's sink connection stops resolving before its start.
    delete process.env[urlEnv];

    const op = await operationOutcome(t, upgrade.body.id);
    await producing;
    expect(op.state).toBe('FAILED');
    expect(op.error).toMatch(
      new RegExp(
        `cannot start instances: sink connection "${connection}": environment variable ${urlEnv} is not set.*; rolled back to version 1, which is running`,
      ),
    );
    const step = (name: string) => op.steps.find((s) => s.name === name)!;
    // The frozen instance acknowledged nothing and was killed after the timeout; the drain went on.
    expect(step('drain old version')).toMatchObject({
      state: 'done',
      figures: { instances: 2, killed: [frozen] },
    });
    expect(step('start new version').state).toBe('failed');
    expect(op.steps.slice(-2).map((s) => [s.name, s.state])).toEqual([
      ['roll back: drain new version', 'done'],
      ['roll back: start last good version', 'done'],
    ]);

    // Version 1 runs again on its checkpoint, with two fresh processes.
    const q = await query();
    expect(q).toMatchObject({ phase: 'RUNNING', desired: { version: 1, checkpointEpoch: 0, instances: 2 } });
    expect(q.observed.lastGoodVersion).toBe(1);
    expect(alive(frozenPid)).toBe(false);
    for (const name of names) {
      const pid = readPid(path.join(instanceDir(name), 'pid'));
      expect(pid !== null && alive(pid), `${name} runs`).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(instanceDir(name), 'meta.json'), 'utf8'))).toMatchObject({
        version: 1,
        checkpointEpoch: 0,
      });
    }

    // No standby is left: their processes have exited and their files are gone.
    await eventually(
      async () => standbyPids.filter((p) => p !== null && alive(p)),
      (left) => left.length === 0,
      30_000,
      'the standbys stopped',
    );
    for (const name of names) expect(fs.existsSync(path.join(instanceDir(name), 'standby.pid'))).toBe(false);

    // Every record counted once by version 1 (the killed instance's open batch was replayed).
    const rows = await eventually(
      () => windowRows(sinkDb, tables.old),
      (r) => totalClicks(r) >= feed.produced,
      120_000,
      'every record counted by version 1',
    );
    expect(rows).toEqual(expectedWindows(firstIds(feed.produced), 60_000));

    // The new checkpoint: nothing ran on it, so it is forgotten — its record kept (the number is
    // never reused) but marked abandoned, its repartition topic deleted. The sink table the
    // standbys prepared stays, empty (it may be shared; a sink table is never dropped).
    const record = await controlDb
      .query<{ checkpoints: Array<Record<string, unknown>> }>(
        'SELECT checkpoints FROM "Query" WHERE id = $1',
        [queryId],
      )
      .then((r) => r.rows[0]!.checkpoints.find((c) => c.epoch === 1));
    expect(record).toMatchObject({ epoch: 1, version: 2, startingOffsets: 'earliest' });
    expect(record?.abandoned).toMatchObject({ reason: expect.stringMatching(/cannot start instances/) });
    expect(op.error).toMatch(/checkpoint c1 forgotten/);
    expect(await topicExists(repartitionTopic(checkpointScope(queryId, 1)))).toBe(false);
    // The standbys wrote nothing to the checkpoint store (the local runtime's folder for c1).
    expect(fs.existsSync(path.join(t.home, 'checkpoints', checkpointScope(queryId, 1)))).toBe(false);
    expect(totalClicks(await windowRows(sinkDb, tables.next))).toBe(0);
  }, 420_000);
});
