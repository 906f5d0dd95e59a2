// Upgrades on the real stack (PostgreSQL, Redis, Kafka, real engines): one windowed query goes
// through every kind of upgrade while records keep arriving, and after each one the sink tables
// are compared with counts recomputed here from the records themselves.
//   1. in place (a filter change): the counts stay continuous and exactly once;
//   2. an incompatible version (window size) is refused with its report;
//   3. a version whose sink table it cannot write fails its triggers (or crashes), fails its gate
//      and is rolled back automatically: the query ends RUNNING on the last good version, nothing
//      lost or doubled;
//   4. the incompatible version on a new checkpoint, continuing from the old offsets: every
//      record is counted once, by the old version or by the new one;
//   5. a rollback by hand goes back to the old version on its old checkpoint, which reads on
//      from where it stopped;
//   6. a new checkpoint from the earliest offsets rebuilds the state from the whole topic.
// A second query: its version crash-loops with rows in its shuffle backlog (its sink refuses
// one shuffle partition's batches), and continuing on a new checkpoint still counts every
// record exactly once, by the old version or by the new one. The same with a sliding window:
// a record's two windows can lie in different shuffle partitions, one aggregated and one in the
// backlog; the new version counts it for the second window only.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineGroupId } from '@sluice/contracts';
import { committedGroupOffsets, createKafka, endOffsets, ensureTopics, parseBrokers } from '@sluice/kafka';
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
  click,
  clickWindowSpec,
  ClickProducer,
  expectedWindows,
  totalClicks,
  windowRows,
  type Click,
} from './support/click-windows';
import {
  currentEngineLog,
  previousEngineLog,
  readEngineLog,
  type EngineLogLine,
} from './support/engine-logs';

const suffix = randomUUID().slice(0, 8);
const topic = `it-upgrade-${suffix}`;
const tables = {
  main: `upg_${suffix}`,
  bad: `upg_bad_${suffix}`,
  next: `upg_next_${suffix}`,
  full: `upg_full_${suffix}`,
  backlogOld: `upg_blog_a_${suffix}`,
  backlogNew: `upg_blog_b_${suffix}`,
  slidingOld: `upg_slide_a_${suffix}`,
  slidingNew: `upg_slide_b_${suffix}`,
  connOld: `upg_conn_a_${suffix}`,
  connNew: `upg_conn_b_${suffix}`,
};
const backlogTopic = `it-upgrade-backlog-${suffix}`;
const slidingTopic = `it-upgrade-sliding-${suffix}`;
const kafka = createKafka({ brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''), clientId: 'it-upgrade' });

const spec = (o: { table: string; where: string; window: string }): string =>
  clickWindowSpec({ name: `upgrade-${suffix}`, topic, ...o });

let t: TestApp;
let stack: IsolatedStack;
const sharedEnv = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
let sinkDb: Pool;
let queryId: string;

interface QueryView {
  phase: string;
  desired: { version: number; checkpointEpoch: number; instances: number };
  observed: { lastGoodVersion: number | null; previousGoodVersion: number | null };
}

const feed = new ClickProducer(kafka, topic);
const produce = (n: number, perSecond: number) => feed.produce(n, perSecond);
const sinkRows = (table: string) => windowRows(sinkDb, table);
const expected = expectedWindows;
const total = totalClicks;

async function settle(table: string, clicks: number, what: string) {
  return eventually(
    () => sinkRows(table),
    (rows) => total(rows) >= clicks,
    90_000,
    what,
  );
}

const finished = (op: { id: string }) => operationOutcome(t, op.id);

const query = () => t.call<QueryView>('GET', `/api/v1/queries/${queryId}`).then((r) => r.body);

/** The first offset a version read from each partition (its events since `since`, oldest first). */
async function firstOffsets(version: number, since: string): Promise<Map<number, number>> {
  const events = await t
    .call<
      Array<{
        sources: Array<{ startOffset: Record<string, Record<string, number>> | null }>;
        sluice: { queryVersion: number; tasks: string[] };
      }>
    >('GET', `/api/v1/queries/${queryId}/progress?limit=1000&since=${encodeURIComponent(since)}`)
    .then((r) => r.body);
  const out = new Map<number, number>();
  for (const e of events.filter((e) => e.sluice.queryVersion === version && e.sluice.tasks.length > 0))
    for (const [p, o] of Object.entries(e.sources[0]?.startOffset?.[topic] ?? {}))
      out.set(Number(p), Math.min(out.get(Number(p)) ?? Infinity, o));
  return out;
}

/**
 * Per instance, across an upgrade with pre-started successors: the successor stood by before its
 * predecessor stopped, was released only after the predecessor had exited, and its first batch
 * started only after the predecessor's last batch had committed (progress events: trigger start
 * and trigger start + duration). On a new checkpoint (`acrossInstances`) every successor waits
 * for every predecessor: released after the last exit, first batch after the last commit (its
 * continue point is where the whole old version ended).
 *
 * Called after the feed has ended: a successor released late may find its partitions read to the
 * end by the one released first (it owned them all until the other joined), and a caught-up
 * instance reports idle triggers, no batch (CI 12-06 01:31: "batches of version 2: expected 0").
 * So a second of records follows the upgrade, and every successor's first batch is waited for.
 */
async function expectHandoverOrder(
  id: string,
  oldVersion: number,
  newVersion: number,
  { acrossInstances = false } = {},
): Promise<void> {
  const names = fs.readdirSync(path.join(t.home, 'instances', id)).sort();
  expect(names).toHaveLength(2);
  await produce(300, 300);
  const events = await eventually(
    async () =>
      (
        await t.call<
          Array<{
            timestamp: string;
            batchDuration?: number;
            sluice: { queryVersion: number; instance: string; tasks?: string[] };
          }>
        >('GET', `/api/v1/queries/${id}/progress?limit=1000`)
      ).body.filter((e) => (e.sluice.tasks?.length ?? 0) > 0),
    (events) =>
      names.every((name) =>
        events.some((e) => e.sluice.instance === name && e.sluice.queryVersion === newVersion),
      ),
    60_000,
    `a batch of version ${newVersion} from every instance`,
  );
  const at = (name: string, lines: EngineLogLine[], msg: string) => {
    const line = lines.find((l) => l.msg.startsWith(msg));
    expect(line, `${name}: "${msg}" in its log`).toBeDefined();
    return Date.parse(line!.time);
  };
  const runs = names.map((name) => {
    const now = readEngineLog(currentEngineLog(t.home, id, name));
    const before = readEngineLog(previousEngineLog(t.home, id, name));
    const mine = events.filter((e) => e.sluice.instance === name);
    const oldCommits = mine
      .filter((e) => e.sluice.queryVersion === oldVersion)
      .map((e) => Date.parse(e.timestamp) + (e.batchDuration ?? 0));
    const newStarts = mine
      .filter((e) => e.sluice.queryVersion === newVersion)
      .map((e) => Date.parse(e.timestamp));
    expect(oldCommits.length, `${name}: batches of version ${oldVersion}`).toBeGreaterThan(0);
    expect(newStarts.length, `${name}: batches of version ${newVersion}`).toBeGreaterThan(0);
    return {
      name,
      standingBy: at(name, now, 'engine standing by'),
      released: at(name, now, 'engine released'),
      oldStopping: at(name, before, 'stopping:'),
      oldExited: at(name, before, 'engine stopped cleanly'),
      lastOldCommit: Math.max(...oldCommits),
      firstNewStart: Math.min(...newStarts),
    };
  });
  for (const r of runs) {
    expect(r.standingBy, `${r.name} stood by before its predecessor stopped`).toBeLessThan(r.oldStopping);
    for (const p of acrossInstances ? runs : [r]) {
      expect(r.released, `${r.name} released after ${p.name}'s old run exited`).toBeGreaterThanOrEqual(
        p.oldExited,
      );
      expect(
        r.firstNewStart,
        `${r.name}'s first batch after ${p.name}'s last old one`,
      ).toBeGreaterThanOrEqual(p.lastOldCommit);
    }
  }
}

/** Every record of the topic with its partition and offset. */
async function readTopic(): Promise<Array<{ id: number; partition: number; offset: number }>> {
  const out: Array<{ id: number; partition: number; offset: number }> = [];
  const consumer = kafka.consumer({ groupId: `it-upgrade-check-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      out.push({
        id: (JSON.parse(message.value!.toString()) as Click).id,
        partition,
        offset: Number(message.offset),
      });
    },
  });
  await eventually(
    async () => out.length,
    (n) => n >= feed.produced,
    60_000,
    'the whole topic read back',
  );
  await consumer.disconnect();
  return out;
}

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { topic, numPartitions: 3 },
    { topic: backlogTopic, numPartitions: 3 },
    { topic: slidingTopic, numPartitions: 3 },
  ]);
  await admin.disconnect();
  sinkDb = new Pool({ connectionString: process.env.SLUICE_SINK_DATABASE_URL });
  // The table the failing version writes to: its `clicks` is a generated column, which no INSERT
  // may write (SQLSTATE 428C9, not a data error: every batch fails and the engine exits).
  await sinkDb.query(
    `CREATE TABLE ${tables.bad} (window_start timestamptz, user_id text, clicks bigint GENERATED ALWAYS AS (0) STORED, amount bigint, PRIMARY KEY (window_start, user_id))`,
  );
  // This suite's control plane has a database and a Redis index of its own (upgrade-support.ts).
  stack = await isolatedStack('sluice_it_upgrade', REDIS_INDEXES.upgrade);
  Object.assign(process.env, stack.env);
  // A cluster of its own: its progress ingest group is its own too (progressGroupId).
  t = await startTestApp({ SLUICE_CLUSTER_NAME: `it-upgrade-${suffix}` });
});

afterAll(async () => {
  await t?.close();
  if (t) killTestInstances(t.home);
  for (const table of Object.values(tables))
    await sinkDb?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await sinkDb?.query(`DROP FUNCTION IF EXISTS refuse_${suffix}()`).catch(() => undefined);
  await sinkDb?.end();
  Object.assign(process.env, sharedEnv);
  await stack?.drop();
});

describe('upgrades on the real stack', () => {
  it('upgrades in place (a filter change) with windowed counts continuous and exactly once', async () => {
    const created = await t.call<{ id: string; operation: { id: string } }>(
      'POST',
      '/api/v1/queries',
      spec({ table: tables.main, where: 'amount >= 0', window: '1 minute' }),
    );
    expect(created.status).toBe(201);
    queryId = created.body.id;
    expect((await finished(created.body.operation)).state).toBe('SUCCEEDED');
    const scaled = await t.call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 2 });
    expect((await finished(scaled.body)).state).toBe('SUCCEEDED');
    const q1 = await query();
    expect(q1.observed.lastGoodVersion).toBe(1);

    // Watch the operation through the query's server-sent events, as the dashboard and CLI do.
    const sse = await fetch(`${t.base}/api/v1/queries/${queryId}/events`, {
      headers: { Authorization: `Bearer ${t.token}` },
    });
    const reader = sse.body!.getReader();
    let streamed = '';
    const streaming = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        streamed += Buffer.from(value).toString('utf8');
      }
    })().catch(() => undefined);

    const producing = produce(3000, 300);
    await new Promise((r) => setTimeout(r, 3000));
    const v2 = await t.call<{
      version: number;
      compatibility: { compatible: boolean; changes: Array<{ severity: string }> };
    }>(
      'POST',
      `/api/v1/queries/${queryId}/versions`,
      spec({ table: tables.main, where: 'amount >= 0 AND amount < 1000', window: '1 minute' }),
    );
    expect(v2.body.version).toBe(2);
    expect(v2.body.compatibility.compatible).toBe(true);
    expect(v2.body.compatibility.changes.map((c) => c.severity)).toContain('caveat');

    const upgrade = await t.call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, {
      version: 2,
      healthGate: { batches: 3, windowSeconds: 60 },
    });
    expect(upgrade.status).toBe(202);
    expect(upgrade.body.type).toBe('upgrade');
    expect(upgrade.body.steps.map((s) => s.name)).toEqual([
      'check compatibility',
      'drain old version',
      'start new version',
      'health gate',
      'mark last good version',
    ]);
    // One operation per query at a time.
    const busy = await t.call<{ code: string }>('POST', `/api/v1/queries/${queryId}/upgrade`, { version: 2 });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('OPERATION_IN_PROGRESS');

    const op = await finished(upgrade.body);
    expect(op.state, op.error ?? '').toBe('SUCCEEDED');
    expect(op.steps.every((s) => s.state === 'done')).toBe(true);
    const drain = op.steps.find((s) => s.name === 'drain old version')!;
    expect(drain.figures).toMatchObject({ instances: 2, killed: [] });
    // The new version was pre-started beside the old one (local runtime) and released per
    // instance only after its predecessor had committed its last batch and exited.
    expect(drain.figures).toMatchObject({ prestarted: 2, prestartReady: 2 });
    await producing;
    await expectHandoverOrder(queryId, 1, 2);
    const gate = op.steps.find((s) => s.name === 'health gate')!;
    expect(gate.message).toMatch(/^passed: /);
    expect(gate.figures).toMatchObject({
      crashes: 0,
      requiredBatches: 3,
      instances: 2,
      instancesReporting: 2,
    });
    expect(gate.figures!.batches as number).toBeGreaterThanOrEqual(3);
    const q2 = await query();
    expect(q2).toMatchObject({ phase: 'RUNNING', desired: { version: 2, checkpointEpoch: 0, instances: 2 } });
    expect(q2.observed.lastGoodVersion).toBe(2);

    const rows = await settle(tables.main, feed.produced, 'every record counted');
    expect(rows).toEqual(expected([...Array(feed.produced).keys()], 60_000));
    // The audit log has the request.
    const audit = await t.call<Array<{ action: string }>>('GET', `/api/v1/audit?target=query/${queryId}`);
    expect(audit.body.map((a) => a.action)).toContain('query.upgrade');

    await new Promise((r) => setTimeout(r, 1500));
    await reader.cancel();
    await streaming;
    const ops = streamed
      .split('\n\n')
      .filter((e) => e.includes('event: operation'))
      .map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)) as Op)
      .filter((o) => o.id === op.id);
    const gateSeen = ops.map((o) => o.steps.find((s) => s.name === 'health gate')).filter((s) => s?.figures);
    expect(gateSeen.length).toBeGreaterThan(0);
    expect(ops.at(-1)?.state).toBe('SUCCEEDED');
  }, 300_000);

  it('refuses an incompatible version in place, answering with the compatibility report', async () => {
    const v3 = await t.call<{ version: number; compatibility: { compatible: boolean } }>(
      'POST',
      `/api/v1/queries/${queryId}/versions`,
      spec({ table: tables.next, where: 'amount >= 0', window: '2 minutes' }),
    );
    expect(v3.body.version).toBe(3);
    expect(v3.body.compatibility.compatible).toBe(false);
    const refused = await t.call<{
      code: string;
      message: string;
      compatibility: {
        against: number;
        compatible: boolean;
        changes: Array<{ kind: string; severity: string; before?: string; after?: string }>;
      };
    }>('POST', `/api/v1/queries/${queryId}/upgrade`, { version: 3 });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('UPGRADE_INCOMPATIBLE');
    expect(refused.body.message).toMatch(/new-checkpoint/);
    expect(refused.body.compatibility).toMatchObject({ against: 2, compatible: false });
    expect(refused.body.compatibility.changes).toContainEqual(
      expect.objectContaining({ kind: 'aggregate.window', severity: 'incompatible' }),
    );
    // Where a new checkpoint starts is not a question for an in-place upgrade.
    const bad = await t.call<{ code: string }>('POST', `/api/v1/queries/${queryId}/upgrade`, {
      version: 3,
      startingOffsets: 'earliest',
    });
    expect(bad.status).toBe(400);
    expect((await query()).desired.version).toBe(2);
  }, 60_000);

  it('rolls a version that fails its gate back automatically: RUNNING on the last good version, nothing lost', async () => {
    const v4 = await t.call<{ version: number; compatibility: { compatible: boolean } }>(
      'POST',
      `/api/v1/queries/${queryId}/versions`,
      spec({ table: tables.bad, where: 'amount >= 0 AND amount < 1000', window: '1 minute' }),
    );
    expect(v4.body.version).toBe(4);
    expect(v4.body.compatibility.compatible).toBe(true); // a table rename is allowed
    const producing = produce(2000, 300);
    const upgrade = await t.call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, { version: 4 });
    expect(upgrade.status).toBe(202);
    const op = await finished(upgrade.body);
    expect(op.state).toBe('FAILED');
    // Its triggers fail: 3 in a row fail the gate, unless the engine's exit after 5 is seen first.
    expect(op.error).toMatch(/triggers in a row failed on|crashed/);
    expect(op.error).toMatch(/rolled back to version 2, which is running/);
    const failedStep = op.steps.find((s) => s.state === 'failed')!;
    expect(['start new version', 'health gate']).toContain(failedStep.name);
    expect(op.steps.slice(-2).map((s) => [s.name, s.state])).toEqual([
      ['roll back: drain new version', 'done'],
      ['roll back: start last good version', 'done'],
    ]);
    const q = await query();
    expect(q).toMatchObject({ phase: 'RUNNING', desired: { version: 2, checkpointEpoch: 0 } });
    expect(q.observed.lastGoodVersion).toBe(2);
    await producing;
    const rows = await settle(tables.main, feed.produced, 'every record counted after the rollback');
    expect(rows).toEqual(expected([...Array(feed.produced).keys()], 60_000));
    expect(total(await sinkRows(tables.bad))).toBe(0);
  }, 300_000);

  it('upgrades to the incompatible version on a new checkpoint continuing from the old offsets: nothing lost, nothing twice', async () => {
    const before = feed.produced;
    const producing = produce(2000, 300);
    await new Promise((r) => setTimeout(r, 1500));
    // Forced, as the CLI's --force sends it: a new checkpoint needs no force and ignores it.
    const upgrade = await t.call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, {
      version: 3,
      strategy: 'new-checkpoint',
      force: true,
    });
    expect(upgrade.status).toBe(202);
    // A stateful query continuing on a new checkpoint first lets its shuffle stage catch up.
    expect(upgrade.body.steps.map((s) => s.name)).toContain('pause sources and flush state');
    const op = await finished(upgrade.body);
    expect(op.state, op.error ?? '').toBe('SUCCEEDED');
    // Pre-started before the pause (the old version still read its sources while they loaded),
    // released only once every old instance had exited: the continue point is final only then.
    expect(op.steps.find((s) => s.name === 'pause sources and flush state')?.figures).toMatchObject({
      shuffleBacklog: 0,
      prestarted: 2,
      prestartReady: 2,
    });
    await producing;
    await expectHandoverOrder(queryId, 2, 3, { acrossInstances: true });
    const q = await query();
    expect(q).toMatchObject({ phase: 'RUNNING', desired: { version: 3, checkpointEpoch: 1 } });
    expect(q.observed).toMatchObject({ lastGoodVersion: 3, previousGoodVersion: 2 });

    // Records below the new version's first offsets were the old version's, the rest are the new one's.
    const started = op.steps.find((s) => s.name === 'start new version')!.startedAt!;
    const split = await firstOffsets(3, started);
    expect(split.size).toBe(3);
    const records = await readTopic();
    const oldIds = records.filter((r) => r.offset < split.get(r.partition)!).map((r) => r.id);
    const newIds = records.filter((r) => r.offset >= split.get(r.partition)!).map((r) => r.id);
    expect(oldIds.length).toBeGreaterThanOrEqual(before);
    expect(oldIds.length + newIds.length).toBe(feed.produced);
    const next = await settle(tables.next, newIds.length, 'the new version counted what it read');
    expect(next).toEqual(expected(newIds, 120_000));
    expect(await sinkRows(tables.main)).toEqual(expected(oldIds, 60_000));
  }, 300_000);

  it('rolls back by hand to the version before, on its own checkpoint, which reads on from where it stopped', async () => {
    const rollback = await t.call<Op>('POST', `/api/v1/queries/${queryId}/rollback`, {});
    expect(rollback.status).toBe(202);
    expect(rollback.body.type).toBe('rollback');
    const op = await finished(rollback.body);
    expect(op.state, op.error ?? '').toBe('SUCCEEDED');
    const q = await query();
    expect(q).toMatchObject({ phase: 'RUNNING', desired: { version: 2, checkpointEpoch: 0 } });
    expect(q.observed).toMatchObject({ lastGoodVersion: 2, previousGoodVersion: 3 });
    // Version 2's checkpoint continues: every record ends up counted in its table, once.
    const rows = await settle(tables.main, feed.produced, 'the old checkpoint caught up');
    expect(rows).toEqual(expected([...Array(feed.produced).keys()], 60_000));
    // A body the API does not know is refused before anything happens.
    const none = await t.call<{ code: string }>('POST', `/api/v1/queries/${queryId}/rollback`, {
      force: 'yes',
    });
    expect(none.status).toBe(400);
  }, 300_000);

  it('upgrades on a new checkpoint from the earliest offsets, rebuilding the state from the whole topic', async () => {
    const v5 = await t.call<{ version: number }>(
      'POST',
      `/api/v1/queries/${queryId}/versions`,
      spec({ table: tables.full, where: 'amount >= 0', window: '2 minutes' }),
    );
    expect(v5.body.version).toBe(5);
    const upgrade = await t.call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, {
      version: 5,
      strategy: 'new-checkpoint',
      startingOffsets: 'earliest',
    });
    expect(upgrade.status).toBe(202);
    // Nothing is carried over, so nothing needs flushing first.
    expect(upgrade.body.steps.map((s) => s.name)).not.toContain('pause sources and flush state');
    const op = await finished(upgrade.body);
    expect(op.state, op.error ?? '').toBe('SUCCEEDED');
    expect((await query()).desired).toMatchObject({ version: 5, checkpointEpoch: 2 });
    const rows = await settle(tables.full, feed.produced, 'the whole topic counted again');
    expect(rows).toEqual(expected([...Array(feed.produced).keys()], 120_000));
  }, 300_000);
});

/**
 * A query whose version crash-loops with rows in its shuffle backlog, continued on a new
 * checkpoint: `window` is the GROUP BY window's arguments after the column, `slideMs` its slide.
 */
function backlogCase(c: {
  title: string;
  name: string;
  topic: string;
  oldTable: string;
  newTable: string;
  window: string;
  windowMs: number;
  slideMs: number;
}): void {
  const backlogSpec = (table: string) =>
    [
      `name: upgrade-${c.name}-${suffix}`,
      'sources:',
      '  clicks:',
      `    kafka: { topic: ${c.topic}, startingOffsets: earliest }`,
      '    format: json',
      '    schema: { id: long, user_id: string, amount: long, ts: timestamp }',
      'sql: |',
      '  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(amount) AS amount',
      '  FROM clicks',
      `  GROUP BY window(ts, ${c.window}), user_id`,
      'sink:',
      `  postgres: { table: ${table}, key: [window_start, user_id] }`,
      'outputMode: update',
      'trigger: { processingTime: 500 milliseconds }',
      'options: { numShufflePartitions: 4 }',
      '',
    ].join('\n');
  let sent = 0;
  /** Windows each record falls into. */
  const perRecord = c.windowMs / c.slideMs;
  const sendClicks = async (n: number) => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let done = 0; done < n; done += 100) {
      const ids = Array.from({ length: Math.min(100, n - done) }, (_, i) => sent + i);
      await producer.send({
        topic: c.topic,
        messages: ids.map((id) => ({ key: click(id).user_id, value: JSON.stringify(click(id)) })),
      });
      sent += ids.length;
    }
    await producer.disconnect();
  };

  it(
    c.title,
    async () => {
      const created = await t.call<{ id: string; operation: { id: string } }>(
        'POST',
        '/api/v1/queries',
        backlogSpec(c.oldTable),
      );
      expect(created.status).toBe(201);
      const id = created.body.id;
      expect((await finished(created.body.operation)).state).toBe('SUCCEEDED');
      await sendClicks(700);
      await settle(c.oldTable, 700 * perRecord, 'the first version counted the first records');

      // From now on the sink refuses user u3's groups (not a data error: the whole batch of that
      // shuffle partition fails, every trigger, and the engine exits after 5 and is restarted).
      // The source stage goes on repartitioning, so that partition's rows pile up in the backlog
      // while the other partitions' rows, interleaved with them in the source, are aggregated.
      await sinkDb.query(
        `CREATE OR REPLACE FUNCTION refuse_${suffix}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.user_id = 'u3' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
      );
      await sinkDb.query(
        `CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON ${c.oldTable} FOR EACH ROW EXECUTE FUNCTION refuse_${suffix}()`,
      );
      await sendClicks(700);
      // Every record repartitioned by the old source stage (its marker at the topic's end).
      const admin = kafka.admin();
      await admin.connect();
      try {
        await eventually(
          async () => {
            const ends = await endOffsets(admin, c.topic);
            const marks = await committedGroupOffsets(admin, engineGroupId(id), [c.topic]);
            return [...ends].every(([p, end]) => marks.get(`${c.topic}:${p}`)?.offset === Number(end));
          },
          (done) => done,
          120_000,
          'the old source stage read every record',
        );
      } finally {
        await admin.disconnect();
      }
      const v2 = await t.call<{ version: number }>(
        'POST',
        `/api/v1/queries/${id}/versions`,
        backlogSpec(c.newTable),
      );
      expect(v2.body.version).toBe(2);
      const upgrade = await t.call<Op>('POST', `/api/v1/queries/${id}/upgrade`, {
        version: 2,
        strategy: 'new-checkpoint',
        startingOffsets: 'continue',
      });
      expect(upgrade.status, JSON.stringify(upgrade.body)).toBe(202);
      const op = await finished(upgrade.body);
      expect(op.state, `${op.error ?? ''} ${JSON.stringify(op.steps)}`).toBe('SUCCEEDED');
      // The old version could not flush: the step says so instead of failing the upgrade.
      expect(op.steps.find((s) => s.name === 'pause sources and flush state')?.figures).toMatchObject({
        flushed: false,
      });
      // Drained: what the old version wrote is final. u3's rows (and its partition's) are missing.
      const stuck = await sinkRows(c.oldTable);
      expect(total(stuck)).toBeLessThan(1400 * perRecord);
      await sendClicks(300);

      // Old table + new table, group by group, equals the counts recomputed from every record:
      // nothing lost (u3's backlog is counted by the new version), nothing counted twice (the
      // records around it that the old version aggregated are not read again).
      const all = Array.from({ length: sent }, (_, i) => i);
      const merged = async () => {
        const out = new Map<string, { clicks: number; amount: number }>();
        for (const table of [c.oldTable, c.newTable])
          for (const [key, v] of await sinkRows(table)) {
            const e = out.get(key) ?? { clicks: 0, amount: 0 };
            out.set(key, { clicks: e.clicks + v.clicks, amount: e.amount + v.amount });
          }
        return out;
      };
      const counted = await eventually(
        merged,
        (rows) => total(rows) >= sent * perRecord,
        120_000,
        'every record counted',
      );
      expect(counted).toEqual(expected(all, c.windowMs, c.slideMs));
      // The old table did not move after the switch: the rows it lacks were counted by the new version.
      expect(await sinkRows(c.oldTable)).toEqual(stuck);
      expect(total(await sinkRows(c.newTable))).toBe(sent * perRecord - total(stuck));
      // What the new version's start found in the old backlog, as the upgrade's gate reports it;
      // with a sliding window some records were partly aggregated (the per-window replay ran).
      const gate = op.steps.find((st) => st.name === 'health gate')?.figures as
        { oldBacklog?: { rows: number; withoutOrigin: number; partlyAggregatedRecords: number } } | undefined;
      expect(gate?.oldBacklog?.rows).toBeGreaterThan(0);
      expect(gate?.oldBacklog?.withoutOrigin).toBe(0);
      if (c.slideMs < c.windowMs) expect(gate?.oldBacklog?.partlyAggregatedRecords).toBeGreaterThan(0);
      else expect(gate?.oldBacklog?.partlyAggregatedRecords).toBe(0);
    },
    420_000,
  );
}

describe('continuing from a version that cannot flush its shuffle stage', () => {
  backlogCase({
    title:
      'counts every record exactly once when the old version crash-loops with rows in its shuffle backlog',
    name: 'backlog',
    topic: backlogTopic,
    oldTable: tables.backlogOld,
    newTable: tables.backlogNew,
    window: "'1 minute'",
    windowMs: 60_000,
    slideMs: 60_000,
  });
  backlogCase({
    title:
      'with a sliding window, a record whose windows were partly aggregated is counted once per window, by the old version or the new',
    name: 'sliding',
    topic: slidingTopic,
    oldTable: tables.slidingOld,
    newTable: tables.slidingNew,
    window: "'1 minute', '30 seconds'",
    windowMs: 60_000,
    slideMs: 30_000,
  });
});

describe('a sink connection changed between versions', () => {
  it('reports it per strategy and refuses a new checkpoint continuing from the old offsets; earliest is the way out', async () => {
    const sinkTopic = `it-upgrade-conn-${suffix}`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: sinkTopic, numPartitions: 1 }]);
    await admin.disconnect();
    // Another registered connection: the analyzer compares connection names (it cannot see URLs).
    const conn = `wh-${suffix}`;
    // The same sink database under another name, through an environment variable (this suite's
    // control plane has no secrets key to seal a URL with).
    const urlEnv = `SLUICE_SINK_URL_UPG_${suffix.toUpperCase()}`;
    process.env[urlEnv] = process.env.SLUICE_SINK_DATABASE_URL;
    const registered = await t.call('POST', '/api/v1/sink-connections', { name: conn, urlEnv });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const connSpec = (table: string, connection?: string) =>
      [
        `name: upgrade-conn-${suffix}`,
        'sources:',
        '  clicks:',
        `    kafka: { topic: ${sinkTopic}, startingOffsets: earliest }`,
        '    format: json',
        '    schema: { id: long, user_id: string, amount: long, ts: timestamp }',
        'sql: SELECT id, user_id FROM clicks',
        'sink:',
        `  postgres: { table: ${table}, key: [id]${connection ? `, connection: ${connection}` : ''} }`,
        'trigger: { processingTime: 500 milliseconds }',
        '',
      ].join('\n');
    const created = await t.call<{ id: string; operation: { id: string } }>(
      'POST',
      '/api/v1/queries',
      connSpec(tables.connOld),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await finished(created.body.operation)).state).toBe('SUCCEEDED');

    const v2 = await t.call<{
      version: number;
      compatibility: {
        compatible: boolean;
        changes: Array<{ kind: string; severity: string; message: string }>;
      };
    }>('POST', `/api/v1/queries/${id}/versions`, connSpec(tables.connNew, conn));
    expect(v2.status).toBe(201);
    expect(v2.body.compatibility.compatible).toBe(true);
    const change = v2.body.compatibility.changes.find((c) => c.kind === 'sink.connection');
    expect(change?.severity).toBe('caveat');
    expect(change?.message).toMatch(/In place:.*continuing from the old offsets: refused/);

    const refused = await t.call<{ code: string; message: string; compatibility: unknown }>(
      'POST',
      `/api/v1/queries/${id}/upgrade`,
      { version: 2, strategy: 'new-checkpoint', force: true },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SINK_CONNECTION_CHANGED');
    expect(refused.body.message).toContain(`sink.postgres.connection: default → ${conn}`);
    expect(refused.body.message).toMatch(/startingOffsets earliest or latest/);
    expect(refused.body.compatibility).toBeDefined();
    // Nothing was touched: still version 1, and no operation started.
    const still = await t.call<QueryView>('GET', `/api/v1/queries/${id}`);
    expect(still.body.desired.version).toBe(1);

    const earliest = await t.call<Op>('POST', `/api/v1/queries/${id}/upgrade`, {
      version: 2,
      strategy: 'new-checkpoint',
      startingOffsets: 'earliest',
    });
    expect(earliest.status, JSON.stringify(earliest.body)).toBe(202);
    const op = await finished(earliest.body);
    expect(op.state, op.error ?? '').toBe('SUCCEEDED');
  }, 300_000);
});
