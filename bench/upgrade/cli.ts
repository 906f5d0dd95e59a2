// `npm run -s bench:upgrade -- [--json] [--strategy in-place|new-checkpoint] [--rate 1000] [--trigger-ms 1000]
//   [--instances 2] [--engine tsx|bundle] [--prestart on|off]`
// Issue 14 §3 on the real stack: a control plane (child process, database and Redis index of its
// own), real engines, a windowed count per user into PostgreSQL under a steady load.
//   1. upgraded in place to a version with another filter (same results): gapMs is the time from
//      the last batch the old version committed to the first the new one committed;
//   2. upgraded to a version whose sink table has a column it cannot write (GENERATED ALWAYS:
//      every batch fails, the engine exits after 5 failed triggers), which fails its gate and is
//      rolled back automatically: gateFailedToRunningMs runs from the failed step to the rollback's
//      instances running, rollbackGapMs from the last batch committed before that upgrade to the
//      first one after the rollback;
//   3. the load stops, the sink settles, and every (window, user) count is compared with the
//      counts recomputed here from the records: lost/duplicated count rows missing or extra,
//      stateContinuous says every group is exact (the state carried across both changes).
// --strategy new-checkpoint: both upgrades go to versions with 2-minute windows into another
// table, on new checkpoints continuing from the old offsets; the records below the new version's
// first offsets (per partition) are the old version's, the others the new one's, and each table
// is compared with the counts of its share.
// A commit time is a progress event's trigger start plus its duration (batch committed).
// --engine tsx runs engines through tsx (`node --import tsx`, TypeScript compiled at every start,
// the control plane's fallback); --engine bundle runs the esbuild bundle the control plane runs by
// default (engine-bundle.ts), to show the gap without the compile.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import {
  buildEngineBundle,
  engineBundleDir,
  tsxEngineCommand,
} from '../../apps/control-plane/src/runtime/engine-bundle';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';
import { REDIS_INDEXES } from '../../apps/control-plane/test/support/redis-indexes';
import {
  createThrowawayDatabase,
  emptyRedisDatabase,
} from '../../apps/control-plane/test/support/throwaway-database';
import { handoverTimeline } from './handover-timeline';

const ROOT = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    'trigger-ms': { type: 'string', default: '1000' },
    instances: { type: 'string', default: '2' },
    'warmup-seconds': { type: 'string', default: '20' },
    port: { type: 'string', default: '4492' },
    engine: { type: 'string', default: 'tsx' },
    strategy: { type: 'string', default: 'in-place' },
    prestart: { type: 'string', default: 'on' },
    json: { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const TRIGGER_MS = Number(values['trigger-ms']);
const INSTANCES = Number(values.instances);
const WARMUP_MS = Number(values['warmup-seconds']) * 1000;
const ENGINE = values.engine;
if (ENGINE !== 'tsx' && ENGINE !== 'bundle') throw new Error('--engine must be tsx or bundle');
const PRESTART = values.prestart;
if (PRESTART !== 'on' && PRESTART !== 'off') throw new Error('--prestart must be on or off');
const STRATEGY = values.strategy;
if (STRATEGY !== 'in-place' && STRATEGY !== 'new-checkpoint')
  throw new Error('--strategy must be in-place or new-checkpoint');
const log = (m: string): void => {
  process.stderr.write(`[bench:upgrade] ${m}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A database and a Redis index of its own: other control planes would reconcile this query too. */
const DATABASE = 'sluice_bench_upgrade';
const REDIS_DB = REDIS_INDEXES.benchUpgrade;

const BASE = Date.UTC(2026, 0, 1);
const click = (id: number) => ({
  id,
  user_id: `u${id % 50}`,
  amount: id % 100,
  ts: new Date(BASE + id * 10).toISOString(),
});

interface Step {
  name: string;
  state: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  figures?: Record<string, unknown>;
}
interface Op {
  id: string;
  state: string;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  steps: Step[];
}
interface Progress {
  timestamp: string;
  batchDuration?: number;
  sources: Array<{ startOffset?: Record<string, Record<string, number>> }>;
  sluice: { queryVersion: number; instance: string; tasks?: string[] };
}

function spec(tag: string, table: string, where: string, window = '1 minute'): string {
  return [
    `name: bench-upgrade-${tag}`,
    'sources:',
    '  clicks:',
    `    kafka: { topic: bench-upgrade-${tag}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { id: long, user_id: string, amount: long, ts: timestamp }',
    'sql: |',
    '  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(amount) AS amount',
    `  FROM clicks WHERE ${where}`,
    `  GROUP BY window(ts, '${window}'), user_id`,
    'sink:',
    `  postgres: { table: ${table}, key: [window_start, user_id] }`,
    'outputMode: update',
    `trigger: { processingTime: ${TRIGGER_MS} milliseconds }`,
    'options: { numShufflePartitions: 4 }',
    '',
  ].join('\n');
}

/** When the batch of a progress event was committed (trigger start + its duration). */
const committedAt = (e: Progress): number => Date.parse(e.timestamp) + (e.batchDuration ?? 0);
const ran = (e: Progress): boolean => (e.sluice.tasks?.length ?? 0) > 0;
const at = (iso: string | undefined): number => (iso ? Date.parse(iso) : Number.NaN);

/** Partition and offset of every record of the topic (ids 0..n-1), read back from Kafka. */
async function readPositions(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  n: number,
): Promise<Map<number, { partition: number; offset: number }>> {
  const out = new Map<number, { partition: number; offset: number }>();
  const consumer = kafka.consumer({ groupId: `bench-upgrade-check-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const id = (JSON.parse(message.value!.toString()) as { id: number }).id;
      out.set(id, { partition, offset: Number(message.offset) });
    },
  });
  const deadline = Date.now() + 120_000;
  while (out.size < n && Date.now() < deadline) await sleep(250);
  await consumer.disconnect();
  if (out.size < n) throw new Error(`read back ${out.size} of ${n} records`);
  return out;
}

async function main(): Promise<void> {
  const config = loadStackConfig();
  await stackUp(log, config);
  const env = { ...stackEnv(config) };
  env.DATABASE_URL = (await createThrowawayDatabase(env.DATABASE_URL, DATABASE)).url;
  const redisUrl = new URL(env.REDIS_URL);
  redisUrl.pathname = `/${REDIS_DB}`;
  await emptyRedisDatabase(redisUrl.toString());
  const tag = randomBytes(3).toString('hex');
  const token = `slc_bench_${randomBytes(16).toString('hex')}`;
  const home = path.join(config.home, `bench-upgrade-${tag}`);
  fs.mkdirSync(home, { recursive: true });
  const port = Number(values.port);
  // The control plane runs the bundle by default; tsx is the command it falls back to.
  const engineCommand = {
    SLUICE_ENGINE_COMMAND: JSON.stringify(
      ENGINE === 'bundle'
        ? [
            process.execPath,
            await buildEngineBundle(ROOT, engineBundleDir(ROOT), (f) => log(`building ${f}`)),
          ]
        : tsxEngineCommand(ROOT),
    ),
  };
  const cp = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      REDIS_URL: redisUrl.toString(),
      SLUICE_API_PORT: String(port),
      SLUICE_BOOTSTRAP_TOKEN: token,
      SLUICE_CLUSTER_NAME: `bench-upgrade-${tag}`,
      SLUICE_HOME: home,
      LOG_LEVEL: 'warn',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      SLUICE_UPGRADE_PRESTART: PRESTART,
      ...engineCommand,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(
    method: string,
    url: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${base}${url}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined
          ? {}
          : { 'Content-Type': typeof body === 'string' ? 'application/yaml' : 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const until = async <T>(
    what: string,
    get: () => Promise<T>,
    ok: (v: T) => boolean,
    ms: number,
  ): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await get();
      if (ok(v)) return v;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 500)}`);
      await sleep(500);
    }
  };
  const finished = (op: { id: string }) =>
    until(
      `operation ${op.id}`,
      () => call<Op>('GET', `/api/v1/operations/${op.id}`).then((r) => r.body),
      (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
      600_000,
    );

  /** Progress events, oldest first, paged by time. */
  const progressSince = async (from: string): Promise<Progress[]> => {
    const events: Progress[] = [];
    for (let since = from; ;) {
      const page = (
        await call<Progress[]>(
          'GET',
          `/api/v1/queries/${queryId}/progress?limit=1000&since=${encodeURIComponent(since)}`,
        )
      ).body;
      events.push(...page);
      if (page.length < 1000) return events;
      since = page.at(-1)!.timestamp;
    }
  };

  const sinkDb = new Pool({ connectionString: env.SLUICE_SINK_DATABASE_URL });
  const tables = {
    main: `bench_upgrade_${tag}`,
    next: `bench_upgrade_next_${tag}`,
    bad: `bench_upgrade_bad_${tag}`,
  };
  // In place: another filter (same rows). New checkpoint: 2-minute windows, which the old
  // checkpoint cannot take, into a table of their own.
  const v2 =
    STRATEGY === 'in-place'
      ? spec(tag, tables.main, 'amount >= 0 AND amount < 1000000')
      : spec(tag, tables.next, 'amount >= 0', '2 minutes');
  const v3 =
    STRATEGY === 'in-place'
      ? spec(tag, tables.bad, 'amount >= 0 AND amount < 1000000')
      : spec(tag, tables.bad, 'amount >= 0', '2 minutes');
  const body = (version: number) => ({ version, ...(STRATEGY === 'in-place' ? {} : { strategy: STRATEGY }) });
  const kafka = createKafka({ brokers: parseBrokers(env.KAFKA_BROKERS), clientId: 'bench-upgrade' });
  let producing = true;
  let produced = 0;
  let queryId: string | undefined;
  try {
    await until(
      'control plane ready',
      () =>
        fetch(`${base}/readyz`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200,
      120_000,
    );
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: `bench-upgrade-${tag}`, numPartitions: 3 }]);
    await admin.disconnect();
    await sinkDb.query(
      `CREATE TABLE ${tables.bad} (window_start timestamptz, user_id text, clicks bigint GENERATED ALWAYS AS (0) STORED, amount bigint, PRIMARY KEY (window_start, user_id))`,
    );

    const created = await call<{ id: string; operation: { id: string } }>(
      'POST',
      '/api/v1/queries',
      spec(tag, tables.main, 'amount >= 0'),
    );
    if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`);
    queryId = created.body.id;
    await finished(created.body.operation);
    if (INSTANCES > 1)
      await finished(
        (await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: INSTANCES }))
          .body,
      );
    log(
      `query ${queryId} running on ${INSTANCES} instance(s), trigger ${TRIGGER_MS} ms; producing ${RATE} records/s`,
    );

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const feeding = (async () => {
      const perTick = Math.max(1, Math.round(RATE / 10));
      while (producing) {
        const ids = Array.from({ length: perTick }, (_, i) => produced + i);
        await producer.send({
          topic: `bench-upgrade-${tag}`,
          messages: ids.map((id) => ({ key: click(id).user_id, value: JSON.stringify(click(id)) })),
        });
        produced += ids.length;
        await sleep(100);
      }
    })();
    const started = new Date().toISOString();
    await sleep(WARMUP_MS);

    // 1. the upgrade.
    await call('POST', `/api/v1/queries/${queryId}/versions`, v2);
    const up = await call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, body(2));
    if (up.status !== 202) throw new Error(`upgrade: ${JSON.stringify(up.body)}`);
    const upgrade = await finished(up.body);
    // Read now: the failing upgrade below starts the same instance names again (rotating logs).
    const handover = handoverTimeline(
      home,
      queryId,
      await progressSince(started),
      1,
      2,
      at(upgrade.createdAt),
    );
    log(
      `upgrade to version 2: ${upgrade.state} in ${((at(upgrade.finishedAt ?? undefined) - at(upgrade.createdAt)) / 1000).toFixed(1)} s`,
    );
    if (upgrade.state !== 'SUCCEEDED') throw new Error(`upgrade failed: ${upgrade.error}`);
    await sleep(15_000);

    // 2. a version that cannot write its sink table: the gate fails, the rollback is automatic.
    await call('POST', `/api/v1/queries/${queryId}/versions`, v3);
    const bad = await call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, body(3));
    if (bad.status !== 202) throw new Error(`upgrade to the failing version: ${JSON.stringify(bad.body)}`);
    const failed = await finished(bad.body);
    log(`upgrade to version 3: ${failed.state}: ${failed.error}`);
    await sleep(15_000);

    producing = false;
    await feeding;
    await producer.disconnect();
    log(`${produced} records produced; waiting for the sink to settle`);
    type Row = { window_start: Date; user_id: string; clicks: string; amount: string };
    const rows = (table: string) =>
      sinkDb.query<Row>(`SELECT * FROM ${table}`).then(
        (r) => r.rows,
        () => [] as Row[],
      );
    const clicksIn = async (table: string) => (await rows(table)).reduce((n, r) => n + Number(r.clicks), 0);
    const sinkTables = STRATEGY === 'in-place' ? [tables.main] : [tables.main, tables.next];
    await until(
      'the sink to count every record',
      async () => (await Promise.all(sinkTables.map(clicksIn))).reduce((a, b) => a + b, 0),
      (n) => n >= produced,
      300_000,
    ).catch((e: Error) => log(e.message));
    await sleep(3000);

    const events = await progressSince(started);

    // Which records each table owes: all of them in place; on a new checkpoint, those below the
    // new version's first offset of their partition to the old table, the others to the new one.
    const ids = [...Array(produced).keys()];
    let owed: Array<{ table: string; ids: number[]; windowMs: number }> = [
      { table: tables.main, ids, windowMs: 60_000 },
    ];
    if (STRATEGY === 'new-checkpoint') {
      const split = new Map<number, number>();
      for (const e of events.filter((e) => ran(e) && e.sluice.queryVersion === 2))
        for (const [p, o] of Object.entries(e.sources[0]?.startOffset?.[`bench-upgrade-${tag}`] ?? {}))
          split.set(Number(p), Math.min(split.get(Number(p)) ?? Infinity, o));
      const position = await readPositions(kafka, `bench-upgrade-${tag}`, produced);
      const old = ids.filter(
        (id) => position.get(id)!.offset < (split.get(position.get(id)!.partition) ?? 0),
      );
      const oldSet = new Set(old);
      owed = [
        { table: tables.main, ids: old, windowMs: 60_000 },
        { table: tables.next, ids: ids.filter((id) => !oldSet.has(id)), windowMs: 120_000 },
      ];
    }
    let lost = 0;
    let duplicated = 0;
    let wrongGroups = 0;
    let groups = 0;
    for (const o of owed) {
      const expected = new Map<string, { clicks: number; amount: number }>();
      for (const id of o.ids) {
        const c = click(id);
        const ms = Date.parse(c.ts);
        const key = `${new Date(ms - (ms % o.windowMs)).toISOString()}|${c.user_id}`;
        const e = expected.get(key) ?? { clicks: 0, amount: 0 };
        e.clicks++;
        e.amount += c.amount;
        expected.set(key, e);
      }
      groups += expected.size;
      const got = new Map(
        (await rows(o.table)).map((r) => [`${r.window_start.toISOString()}|${r.user_id}`, r]),
      );
      for (const [key, e] of expected) {
        const g = got.get(key);
        const clicks = g ? Number(g.clicks) : 0;
        lost += Math.max(0, e.clicks - clicks);
        duplicated += Math.max(0, clicks - e.clicks);
        if (!g || clicks !== e.clicks || Number(g.amount) !== e.amount) wrongGroups++;
      }
      for (const [key, g] of got) if (!expected.has(key)) duplicated += Number(g.clicks);
    }

    const commits = (version: number, from: number, to: number) =>
      events
        .filter((e) => ran(e) && e.sluice.queryVersion === version)
        .map(committedAt)
        .filter((t) => t >= from && t <= to);
    const upgradeStart = at(upgrade.createdAt);
    const lastOld = Math.max(...commits(1, 0, Infinity));
    const firstNew = Math.min(...commits(2, upgradeStart, Infinity));
    const failedStep = failed.steps.find((s) => s.state === 'failed');
    const restart = failed.steps.find((s) => s.name === 'roll back: start last good version');
    // The failing version writes nothing to the sink: the sink's gap runs from version 2's last
    // batch before the rollback started it again to its first batch after.
    const restartedAt = at(restart?.startedAt);
    const lastBefore = Math.max(...commits(2, upgradeStart, restartedAt));
    const firstAfter = Math.min(...commits(2, restartedAt, Infinity));
    const gate = upgrade.steps.find((s) => s.name === 'health gate');
    const result = {
      strategy: STRATEGY,
      triggerMs: TRIGGER_MS,
      gapMs: Math.round(firstNew - lastOld),
      rollbackGapMs: Math.round(firstAfter - lastBefore),
      gateFailedToRunningMs: Math.round(at(restart?.finishedAt) - at(failedStep?.finishedAt)),
      lost,
      duplicated,
      stateContinuous: wrongGroups === 0 && lost === 0 && duplicated === 0,
      detail: {
        engine: ENGINE,
        prestart: PRESTART,
        records: produced,
        rate: RATE,
        instances: INSTANCES,
        groups,
        wrongGroups,
        upgradeMs: Math.round(at(upgrade.finishedAt ?? undefined) - at(upgrade.createdAt)),
        drainMs: upgrade.steps.find((s) => s.name === 'drain old version')?.figures?.drainMs,
        gate: gate?.figures,
        upgradeSteps: upgrade.steps.map((s) => ({
          name: s.name,
          ms: Math.round(at(s.finishedAt) - at(s.startedAt)),
        })),
        handover,
        failedUpgrade: { state: failed.state, error: failed.error, failedStep: failedStep?.name },
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
    if (!result.stateContinuous) process.exitCode = 1;
  } finally {
    producing = false;
    if (queryId) {
      const deleted = await call<{ id: string }>('DELETE', `/api/v1/queries/${queryId}`).catch(
        () => undefined,
      );
      if (deleted?.status === 202) await finished(deleted.body).catch(() => undefined);
    }
    cp.kill('SIGTERM');
    await new Promise((r) => cp.once('exit', r));
    // Whatever engine the delete did not drain (a failed run) is stopped too.
    const instances = path.join(home, 'instances');
    for (const q of fs.existsSync(instances) ? fs.readdirSync(instances) : [])
      for (const i of fs.readdirSync(path.join(instances, q))) {
        try {
          process.kill(Number(fs.readFileSync(path.join(instances, q, i, 'pid'), 'utf8')), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    for (const table of Object.values(tables))
      await sinkDb.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await sinkDb.end();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench:upgrade failed: ${e.message}\n`);
  process.exit(1);
});
