// `npm run -s bench:recovery -- [--json] [--cycles 3] [--engines tsx,bundle] [--rate 500]
//   [--trigger-ms 500]`  (engines: tsx, bundle, bundle-plain; one may repeat, for A/B/A/B runs)
// Issue 20 §5 on the real stack: how long an engine takes from its start to its first committed
// batch, and from a SIGKILL to committing again under the local runtime, phase by phase, for each
// engine command in the same run (tsx: TypeScript compiled at every start; bundle: the esbuild
// bundle through its code-cache launcher, as the control plane runs it by default,
// engine-bundle.ts; bundle-plain: node on the bundle alone, no code cache).
// Per engine command: a control plane (child process; database `sluice_bench_recovery` and Redis
// index 9 of its own), then `--cycles` times: a windowed count per user into PostgreSQL (one
// instance, 3 partitions, records produced all along) is created; its engine commits; it is
// SIGKILLed; it commits again; the query is deleted. A fresh query per cycle makes every kill its
// instance's first crash (restarted with no backoff) instead of a backoff doubling per cycle.
// Phases (ms): start: created → spawned (pid file written) → first committed batch;
// recovery: SIGKILL → noticed (the API shows the instance not RUNNING; polled every 50 ms) →
// spawned (a new pid file; a first crash has no backoff, and when the poll sees the crash only
// after the spawn, noticed = spawned) → committing again (the first batch the new process
// committed: a progress event's trigger start plus its duration). The first start's steps from its
// log: node's start and the bundle's load (the "engine process up" line's uptime), spawned →
// connected (spec compiled, checkpoint and Kafka prepared), spawned → started (groups joined).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import {
  buildEngineBundle,
  bundledEngineCommand,
  engineBundleDir,
  tsxEngineCommand,
} from '../../apps/control-plane/src/runtime/engine-bundle';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';
import { REDIS_INDEXES } from '../../apps/control-plane/test/support/redis-indexes';
import { createThrowawayDatabase } from '../../apps/control-plane/test/support/throwaway-database';

const ROOT = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '3' },
    engines: { type: 'string', default: 'tsx,bundle' },
    rate: { type: 'string', default: '500' },
    'trigger-ms': { type: 'string', default: '500' },
    port: { type: 'string', default: '4493' },
    json: { type: 'boolean', default: false },
  },
});
const CYCLES = Number(values.cycles);
const RATE = Number(values.rate);
const TRIGGER_MS = Number(values['trigger-ms']);
const ENGINES = values.engines.split(',');
if (!Number.isInteger(CYCLES) || CYCLES < 1 || CYCLES > 20) throw new Error('--cycles must be 1..20');
if (!(RATE > 0 && RATE <= 100_000)) throw new Error('--rate must be in (0, 100000]');
if (!(TRIGGER_MS >= 100 && TRIGGER_MS <= 60_000)) throw new Error('--trigger-ms must be 100..60000');
const ENGINE_KINDS = ['tsx', 'bundle', 'bundle-plain'];
for (const e of ENGINES)
  if (!ENGINE_KINDS.includes(e)) throw new Error(`--engines: a list of ${ENGINE_KINDS.join(', ')}`);
const log = (m: string): void => {
  process.stderr.write(`[bench:recovery] ${m}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A database and a Redis index of its own: other control planes would reconcile this query too. */
const DATABASE = 'sluice_bench_recovery';
const REDIS_DB = REDIS_INDEXES.benchRecovery;
const BASE = Date.UTC(2026, 0, 1);

interface Progress {
  timestamp: string;
  batchDuration?: number;
  sluice: { instance: string; tasks?: string[] };
}
interface QueryView {
  instances: Array<{ name: string; status: string; ref: string | null }>;
}
interface Cycle {
  createdToSpawnedMs: number;
  spawnedToFirstCommitMs: number;
  /** The first start from its log: node's start and the bundle's load ("engine process up"). */
  processUpMs: number;
  /** Spawned → spec compiled, checkpoint and Kafka prepared ("engine connected; joining groups"). */
  spawnedToConnectedMs: number;
  /** Spawned → groups joined, first trigger next ("engine started"). */
  spawnedToStartedMs: number;
  killedToNoticedMs: number;
  noticedToSpawnedMs: number;
  spawnedToCommittingMs: number;
  killedToCommittingMs: number;
}

const committedAt = (e: Progress): number => Date.parse(e.timestamp) + (e.batchDuration ?? 0);

/** The start-up steps of one engine run from its log (pino JSON lines); NaN for a missing step. */
function startSteps(
  log: string,
  spawnedAt: number,
): Pick<Cycle, 'processUpMs' | 'spawnedToConnectedMs' | 'spawnedToStartedMs'> {
  const lines = log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as { msg?: string; time?: string; uptimeMs?: number };
      } catch {
        return {};
      }
    });
  const at = (msg: string): number => {
    const line = lines.find((l) => l.msg === msg);
    return line?.time ? Math.round(Date.parse(line.time) - spawnedAt) : Number.NaN;
  };
  return {
    processUpMs: lines.find((l) => l.msg === 'engine process up')?.uptimeMs ?? Number.NaN,
    spawnedToConnectedMs: at('engine connected; joining groups'),
    spawnedToStartedMs: at('engine started'),
  };
}

function spec(name: string, topic: string, table: string): string {
  return [
    `name: ${name}`,
    'sources:',
    '  clicks:',
    `    kafka: { topic: ${topic}, startingOffsets: latest }`,
    '    format: json',
    '    schema: { id: long, user_id: string, amount: long, ts: timestamp }',
    'sql: |',
    '  SELECT window.start AS window_start, user_id, count(*) AS clicks',
    "  FROM clicks GROUP BY window(ts, '1 minute'), user_id",
    'sink:',
    `  postgres: { table: ${table}, key: [window_start, user_id] }`,
    'outputMode: update',
    `trigger: { processingTime: ${TRIGGER_MS} milliseconds }`,
    'options: { numShufflePartitions: 2 }',
    '',
  ].join('\n');
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
};

async function runEngine(
  engine: string,
  env: Record<string, string>,
  redisUrl: string,
  topic: string,
): Promise<Cycle[]> {
  const tag = randomBytes(3).toString('hex');
  const token = `slc_bench_${randomBytes(16).toString('hex')}`;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `bench-recovery-${engine}-`));
  const onBuild = (f: string): void => log(`building ${f}`);
  const command =
    engine === 'bundle'
      ? await bundledEngineCommand(ROOT, engineBundleDir(ROOT), onBuild)
      : engine === 'bundle-plain'
        ? [process.execPath, await buildEngineBundle(ROOT, engineBundleDir(ROOT), onBuild)]
        : tsxEngineCommand(ROOT);
  const port = Number(values.port);
  const cp = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      REDIS_URL: redisUrl,
      SLUICE_API_PORT: String(port),
      SLUICE_BOOTSTRAP_TOKEN: token,
      SLUICE_CLUSTER_NAME: `bench-recovery-${tag}`,
      SLUICE_HOME: home,
      SLUICE_ENGINE_COMMAND: JSON.stringify(command),
      LOG_LEVEL: 'warn',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(
    method: string,
    url: string,
    body?: string,
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${base}${url}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/yaml' }),
      },
      body,
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  };
  /** Polls `get` every `everyMs` until it returns a value; throws after `ms`. */
  const until = async <T>(what: string, get: () => Promise<T | undefined>, ms: number, everyMs = 50) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await get().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(everyMs);
    }
  };
  const sinkDb = new Pool({ connectionString: env.SLUICE_SINK_DATABASE_URL });
  const cycles: Cycle[] = [];
  try {
    await until(
      'control plane ready',
      () => fetch(`${base}/readyz`).then((r) => (r.ok ? true : undefined)),
      180_000,
      500,
    );
    for (let c = 0; c < CYCLES; c++) {
      const name = `bench-recovery-${tag}-${c}`;
      const table = `bench_recovery_${tag}_${c}`;
      const created = Date.now();
      const res = await call<{ id: string }>('POST', '/api/v1/queries', spec(name, topic, table));
      if (res.status !== 201) throw new Error(`create: ${JSON.stringify(res.body)}`);
      const id = res.body.id;
      const instanceDir = path.join(home, 'instances', id, `${name}-0`);
      const pidFile = path.join(instanceDir, 'pid');
      const pidOf = (): { pid: number; at: number } | undefined => {
        try {
          return { pid: Number(fs.readFileSync(pidFile, 'utf8')), at: fs.statSync(pidFile).mtimeMs };
        } catch {
          return undefined;
        }
      };
      const firstCommitAfter = (after: number) =>
        until(
          'a committed batch',
          async () => {
            const page = await call<Progress[]>(
              'GET',
              `/api/v1/queries/${id}/progress?limit=100&since=${encodeURIComponent(new Date(after - 60_000).toISOString())}`,
            );
            const times = page.body
              .filter((e) => (e.sluice.tasks?.length ?? 0) > 0)
              .map(committedAt)
              .filter((t) => t > after);
            return times.length > 0 ? Math.min(...times) : undefined;
          },
          180_000,
          200,
        );
      const first = await until('the engine spawned', async () => pidOf(), 180_000);
      const firstCommit = await firstCommitAfter(first.at);
      await sleep(2000); // steady state: a few batches committed
      const killedAt = Date.now();
      process.kill(first.pid, 'SIGKILL');
      const noticedAt = await until(
        'the crash noticed',
        async () => {
          const q = await call<QueryView>('GET', `/api/v1/queries/${id}`);
          const i = q.body.instances.find((x) => x.name === `${name}-0`);
          return i && i.status !== 'RUNNING' ? Date.now() : undefined;
        },
        60_000,
      );
      const respawned = await until(
        'the engine spawned again',
        async () => {
          const p = pidOf();
          return p && p.pid !== first.pid ? p : undefined;
        },
        120_000,
      );
      const committing = await firstCommitAfter(respawned.at);
      // A first crash restarts at once: the poll may see the new instance STARTING after its
      // spawn, and the spawn proves the crash was noticed by then.
      const noticed = Math.min(noticedAt, respawned.at);
      // The first run's log, rotated to engine.log.1 by the restart.
      const firstLog = fs.readFileSync(path.join(instanceDir, 'engine.log.1'), 'utf8');
      const cycle: Cycle = {
        createdToSpawnedMs: Math.round(first.at - created),
        spawnedToFirstCommitMs: Math.round(firstCommit - first.at),
        ...startSteps(firstLog, first.at),
        killedToNoticedMs: Math.round(noticed - killedAt),
        noticedToSpawnedMs: Math.round(respawned.at - noticed),
        spawnedToCommittingMs: Math.round(committing - respawned.at),
        killedToCommittingMs: Math.round(committing - killedAt),
      };
      cycles.push(cycle);
      log(`${engine} cycle ${c + 1}/${CYCLES}: ${JSON.stringify(cycle)}`);
      const deleted = await call<{ id: string }>('DELETE', `/api/v1/queries/${id}`);
      if (deleted.status === 202)
        await until(
          'the query deleted',
          async () => ((await call('GET', `/api/v1/queries/${id}`)).status === 404 ? true : undefined),
          120_000,
          500,
        );
      await sinkDb.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    }
  } finally {
    cp.kill('SIGTERM');
    await new Promise((r) => cp.once('exit', r));
    // Whatever engine a failed run left is stopped too.
    const instances = path.join(home, 'instances');
    for (const q of fs.existsSync(instances) ? fs.readdirSync(instances) : [])
      for (const i of fs.readdirSync(path.join(instances, q))) {
        try {
          process.kill(Number(fs.readFileSync(path.join(instances, q, i, 'pid'), 'utf8')), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    await sinkDb.end();
    fs.rmSync(home, { recursive: true, force: true });
  }
  return cycles;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg().map((l) => Number(l.toFixed(2)));
  const config = loadStackConfig();
  await stackUp(log, config);
  const env = { ...stackEnv(config) };
  const redisUrl = new URL(env.REDIS_URL);
  redisUrl.pathname = `/${REDIS_DB}`;
  const topic = `bench-recovery-${randomBytes(3).toString('hex')}`;
  const kafka = createKafka({ brokers: parseBrokers(env.KAFKA_BROKERS), clientId: 'bench-recovery' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let producing = true;
  let produced = 0;
  const feeding = (async () => {
    const perTick = Math.max(1, Math.round(RATE / 10));
    while (producing) {
      const messages = Array.from({ length: perTick }, (_, i) => {
        const id = produced + i;
        const value = {
          id,
          user_id: `u${id % 50}`,
          amount: id % 100,
          ts: new Date(BASE + id * 10).toISOString(),
        };
        return { key: value.user_id, value: JSON.stringify(value) };
      });
      await producer.send({ topic, messages });
      produced += perTick;
      await sleep(100);
    }
  })();
  const results: Record<string, { cycles: Cycle[]; median: Cycle }> = {};
  try {
    for (const [n, engine] of ENGINES.entries()) {
      // A repeated engine (A/B/A/B) is reported once per run: `bundle`, `bundle#2`, …
      const key = ENGINES.slice(0, n).includes(engine)
        ? `${engine}#${ENGINES.slice(0, n + 1).filter((e) => e === engine).length}`
        : engine;
      const databaseUrl = (await createThrowawayDatabase(env.DATABASE_URL, DATABASE)).url;
      const redis = new Redis(redisUrl.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      await redis.flushdb();
      redis.disconnect();
      log(`engine ${engine}: ${CYCLES} cycle(s), ${RATE} records/s, trigger ${TRIGGER_MS} ms`);
      const cycles = await runEngine(
        engine,
        { ...env, DATABASE_URL: databaseUrl },
        redisUrl.toString(),
        topic,
      );
      const keys = Object.keys(cycles[0]!) as Array<keyof Cycle>;
      results[key] = {
        cycles,
        median: Object.fromEntries(keys.map((k) => [k, median(cycles.map((c) => c[k]))])) as unknown as Cycle,
      };
    }
  } finally {
    producing = false;
    await feeding;
    await producer.disconnect();
  }
  const ratio = (k: keyof Cycle): number | null =>
    results.tsx && results.bundle
      ? Number((results.bundle.median[k] / results.tsx.median[k]).toFixed(2))
      : null;
  const out = {
    loadAtStart,
    load: os.loadavg().map((l) => Number(l.toFixed(2))),
    cycles: CYCLES,
    rate: RATE,
    triggerMs: TRIGGER_MS,
    ...results,
    bundleOverTsx: {
      spawnedToFirstCommit: ratio('spawnedToFirstCommitMs'),
      killedToCommitting: ratio('killedToCommittingMs'),
    },
  };
  process.stdout.write(`${JSON.stringify(out, null, values.json ? 0 : 2)}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`bench:recovery failed: ${e.message}\n`);
  process.exit(1);
});
