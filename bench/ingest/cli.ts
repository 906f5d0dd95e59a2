// `npm run bench:ingest -- [--events N] [--queries Q] [--rate EVENTS_PER_S] [--json]`
// Measures progress ingest of the real control plane (child process, real Kafka/PostgreSQL):
//  - ingest rate: N Spark progress events blasted onto `sluice.progress`, time until the control
//    plane has stored them all (its sluice_progress_events_total counter);
//  - baseline in the same run: a bare kafkajs consumer reading the same events (no storage);
//  - API latency (GET /api/v1/queries/:id, 4 concurrent clients in a separate probe process)
//    idle vs during the ingest.
// Without --rate the events are produced as fast as kafkajs can (a flood: measures capacity);
// with --rate they are paced at that many events/s (steady load, as a fleet of engines sends).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { PROGRESS_TOPIC } from '@sluice/contracts';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { applyMigrations } from '../../prisma/migrate';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';

const ROOT = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: { events: { type: 'string', default: '50000' }, queries: { type: 'string', default: '20' }, rate: { type: 'string' }, json: { type: 'boolean', default: false } },
});
const EVENTS = Number(values.events);
const RATE = values.rate === undefined ? undefined : Number(values.rate);
const QUERIES = Number(values.queries);
const log = (m: string): void => {
  if (!values.json) process.stderr.write(`[bench:ingest] ${m}\n`);
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Starts the API probe (own process); `stop()` ends it and returns its sorted latencies. */
function startProbe(base: string, token: string, ids: string[]): { stop: () => Promise<number[]> } {
  const probe = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'api-probe.ts'), base, token, ids.join(',')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  probe.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => probe.once('exit', r));
  return {
    stop: async () => {
      probe.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`api probe exited with ${code}`);
      return JSON.parse(out) as number[];
    },
  };
}

async function storedCount(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^sluice_progress_events_total\{result="stored"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<void> {
  const config = loadStackConfig();
  await stackUp(log, config);
  const env = stackEnv(config);
  // A database of its own: queries other runs left in the shared one (desired RUNNING) would be
  // deployed by this control plane and compete for the CPU being measured.
  const admin0 = new Client({ connectionString: env.DATABASE_URL });
  await admin0.connect();
  await admin0.query('DROP DATABASE IF EXISTS sluice_bench_ingest WITH (FORCE)');
  await admin0.query('CREATE DATABASE sluice_bench_ingest');
  await admin0.end();
  const dbUrl = new URL(env.DATABASE_URL);
  dbUrl.pathname = '/sluice_bench_ingest';
  env.DATABASE_URL = dbUrl.toString();
  await applyMigrations(env.DATABASE_URL);
  const token = `slc_bench_${randomBytes(16).toString('hex')}`;
  const port = 4490;
  const home = path.join(config.home, 'bench-ingest');
  fs.mkdirSync(home, { recursive: true });
  const cp = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, SLUICE_API_PORT: String(port), SLUICE_BOOTSTRAP_TOKEN: token, LOG_LEVEL: 'warn', SLUICE_HOME: home, SLUICE_PROGRESS_RETENTION: '1000000', KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 240; i++) {
      if (await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const ids: string[] = [];
    const tag = randomBytes(3).toString('hex');
    for (let q = 0; q < QUERIES; q++) {
      const spec = `name: bench-ingest-${tag}-${q}\nsources:\n  s:\n    kafka: { topic: bench-ingest-src }\n    format: json\n    schema: { id: long }\nsql: SELECT id FROM s\nsink:\n  console: {}\n`;
      const r = await fetch(`${base}/api/v1/queries?deploy=false`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/yaml' }, body: spec });
      if (r.status !== 201) throw new Error(`create query → ${r.status} ${await r.text()}`);
      ids.push(((await r.json()) as { id: string }).id);
    }
    // Let the control plane's progress consumer join its group before measuring.
    await new Promise((r) => setTimeout(r, 5000));
    log('measuring idle API latency');
    const idleProbe = startProbe(base, token, ids);
    await new Promise((r) => setTimeout(r, 8000));
    const idle = await idleProbe.stop();

    const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'libs/contracts/test/fixtures/spark-progress-kafka.json'), 'utf8')) as Record<string, unknown>;
    const kafka = createKafka({ brokers: parseBrokers(env.KAFKA_BROKERS), clientId: 'bench-ingest' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: PROGRESS_TOPIC, numPartitions: 3 }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const before = await storedCount(base);
    const t0 = performance.now();
    const duringProbe = startProbe(base, token, ids);
    log(`producing ${EVENTS} progress events${RATE ? ` at ${RATE}/s` : ''}`);
    const startTs = Date.now();
    for (let i = 0; i < EVENTS; i += 1000) {
      const messages = [];
      for (let j = i; j < Math.min(EVENTS, i + 1000); j++) {
        const id = ids[j % ids.length]!;
        messages.push({ key: id, value: JSON.stringify({ ...fixture, id, batchId: j, timestamp: new Date(startTs + j).toISOString() }) });
      }
      await producer.send({ topic: PROGRESS_TOPIC, messages });
      if (RATE) {
        const due = t0 + ((i + messages.length) / RATE) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    const produceSeconds = (performance.now() - t0) / 1000;
    while ((await storedCount(base)) - before < EVENTS) {
      if (performance.now() - t0 > 600_000) throw new Error('ingest did not finish within 10 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    const busy = await duringProbe.stop();

    log('baseline: bare consumer over the same events');
    const consumer = kafka.consumer({ groupId: `bench-ingest-raw-${tag}`, maxBytes: 10 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topic: PROGRESS_TOPIC, fromBeginning: true });
    const offsets = await admin.fetchTopicOffsets(PROGRESS_TOPIC);
    const totalInTopic = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
    let seen = 0;
    let rawStart = 0;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (rawStart === 0) rawStart = performance.now();
        for (const m of batch.messages) JSON.parse(m.value?.toString() ?? 'null');
        seen += batch.messages.length;
      },
    });
    while (seen < totalInTopic) await new Promise((r) => setTimeout(r, 50));
    const rawSeconds = (performance.now() - rawStart) / 1000;
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();

    const ingestRate = EVENTS / ingestSeconds;
    const rawRate = totalInTopic / rawSeconds;
    const result = {
      events: EVENTS,
      queries: QUERIES,
      offeredEventsPerSecond: RATE ?? null,
      produceSeconds: +produceSeconds.toFixed(2),
      ingestSeconds: +ingestSeconds.toFixed(2),
      ingestEventsPerSecond: Math.round(ingestRate),
      baselineRawConsumeEventsPerSecond: Math.round(rawRate),
      ingestVsRawConsume: +(ingestRate / rawRate).toFixed(3),
      apiIdleMs: { requests: idle.length, p50: +percentile(idle, 50).toFixed(1), p99: +percentile(idle, 99).toFixed(1) },
      apiDuringIngestMs: { requests: busy.length, p50: +percentile(busy, 50).toFixed(1), p99: +percentile(busy, 99).toFixed(1) },
      p99DuringVsIdle: +(percentile(busy, 99) / percentile(idle, 99)).toFixed(2),
      targets: { ingestAtLeast5000PerSecond: ingestRate >= 5000, apiP99AtMost50Ms: percentile(busy, 99) <= 50 },
    };
    process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
  } finally {
    cp.kill('SIGTERM');
    await new Promise((r) => (cp.exitCode !== null ? r(null) : cp.once('exit', r)));
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench:ingest failed: ${e.message}\n`);
  process.exit(1);
});
