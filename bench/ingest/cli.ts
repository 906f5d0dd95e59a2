// `npm run bench:ingest -- [--events N] [--queries Q] [--json]`
// Measures progress ingest of the real control plane (child process, real Kafka/PostgreSQL):
//  - ingest rate: N Spark progress events blasted onto `sluice.progress`, time until the control
//    plane has stored them all (its sluice_progress_events_total counter);
//  - baseline in the same run: a bare kafkajs consumer reading the same events (no storage);
//  - API latency (GET /api/v1/queries/:id, 4 concurrent clients) idle vs during the ingest.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROGRESS_TOPIC } from '@sluice/contracts';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { applyMigrations } from '../../prisma/migrate';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';

const ROOT = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({ options: { events: { type: 'string', default: '50000' }, queries: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } } });
const EVENTS = Number(values.events);
const QUERIES = Number(values.queries);
const log = (m: string): void => {
  if (!values.json) process.stderr.write(`[bench:ingest] ${m}\n`);
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function apiLatencies(base: string, token: string, ids: string[], until: () => boolean, minRequests: number): Promise<number[]> {
  const out: number[] = [];
  const worker = async (w: number): Promise<void> => {
    for (let i = w; !until() || out.length < minRequests; i += 4) {
      const t = performance.now();
      const r = await fetch(`${base}/api/v1/queries/${ids[i % ids.length]}`, { headers: { Authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`GET query → ${r.status}`);
      out.push(performance.now() - t);
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
  return out.sort((a, b) => a - b);
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
    let idleDone = false;
    setTimeout(() => (idleDone = true), 5000);
    const idle = await apiLatencies(base, token, ids, () => idleDone, 500);

    const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'libs/contracts/test/fixtures/spark-progress-kafka.json'), 'utf8')) as Record<string, unknown>;
    const kafka = createKafka({ brokers: parseBrokers(env.KAFKA_BROKERS), clientId: 'bench-ingest' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: PROGRESS_TOPIC, numPartitions: 3 }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const before = await storedCount(base);
    const t0 = performance.now();
    let ingestDone = false;
    const during = apiLatencies(base, token, ids, () => ingestDone, 200);
    log(`producing ${EVENTS} progress events`);
    const startTs = Date.now();
    for (let i = 0; i < EVENTS; i += 1000) {
      const messages = [];
      for (let j = i; j < Math.min(EVENTS, i + 1000); j++) {
        const id = ids[j % ids.length]!;
        messages.push({ key: id, value: JSON.stringify({ ...fixture, id, batchId: j, timestamp: new Date(startTs + j).toISOString() }) });
      }
      await producer.send({ topic: PROGRESS_TOPIC, messages });
    }
    const produceSeconds = (performance.now() - t0) / 1000;
    while ((await storedCount(base)) - before < EVENTS) {
      if (performance.now() - t0 > 600_000) throw new Error('ingest did not finish within 10 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    ingestDone = true;
    const busy = await during;

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
