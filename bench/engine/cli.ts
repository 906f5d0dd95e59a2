// `npm run bench:engine -- [--records N] [--json]` — engine throughput on the real broker, all in
// one run so the ratios compare like with like:
//  (a) baseline: a bare kafkajs consume→produce pipe over the input topic;
//  (b) Sluice stateless filter + projection, exactly-once Kafka sink;
//  (c) Sluice 1-minute windowed count by key (repartition + state store), exactly-once Kafka sink;
//  (d) Sluice stream–static join with a 5,000-row PostgreSQL table, exactly-once Kafka sink;
//  (e) Sluice stream–stream inner join of the input with a second topic (same rows), on the key
//      and a 1-minute time range, exactly-once Kafka sink (input rows = both topics);
//  (f) Sluice session windows per user (gap 30 s, update mode: merging sessions in the state
//      store, eviction by the 10 s watermark), exactly-once Kafka sink;
//  plus batch p50 latency for 1k-row batches at trigger 0 (from the 4-partition input, and from a
//  1-partition topic: one transaction per trigger instead of four) and state memory per key.
// With `--peer spark` the same input and queries also run on Apache Spark Structured Streaming
// (spark-peer.ts) and the result gains Sluice ÷ Spark ratios and each side's peak RSS.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { PROGRESS_TOPIC, type StreamingQueryProgress } from '@sluice/contracts';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { Pool } from 'pg';
import { buildEngineBundle, engineBundleDir } from '../../apps/control-plane/src/runtime/engine-bundle';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';
import { clicksSource, engineRunArgs, LATENCY_QUERY, WINDOWED_QUERY } from './bench-queries';
import { produceClicks } from './click-input';
import { collectProgress } from './progress-collector';
import { runSparkPeer, type SparkPeerResult } from './spark-peer';

const ROOT = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    json: { type: 'boolean', default: false },
    peer: { type: 'string' },
  },
});
const N = Number(values.records);
if (!Number.isInteger(N) || N < 1000 || N > 10_000_000) {
  process.stderr.write('bench:engine: --records must be an integer from 1000 to 10000000\n');
  process.exit(1);
}
if (values.peer !== undefined && values.peer !== 'spark') {
  process.stderr.write(`bench:engine: --peer must be 'spark' (got '${values.peer}')\n`);
  process.exit(1);
}
// The latency input with a peer: both engines read a topic of their own for that run, 100 batches of
// 1k rows (Spark takes 0.15-0.2 s a batch on the 2-core machines of 2026-12, 1 s on 12-03's).
// Until 2026-12-05 it was 30 batches, whose p50 weighed a new Sluice process's first batches
// (connections, JIT) against Spark's second run in a warm JVM; the p50 over the first 30 batches
// of each is still reported (`batchP50VsSparkFirst30Batches`).
const LATENCY_RECORDS_WITH_PEER = 100_000;
/** The batches of the pre-2026-12-05 latency runs with a peer, reported for comparison. */
const FIRST_BATCHES = 30;
const PARTITIONS = 4;
const log = (m: string): void => {
  if (!values.json) process.stderr.write(`[bench:engine] ${m}\n`);
};

/** (a) consume every record and produce it unchanged to another topic; records/s. */
async function rawPipe(kafka: Kafka, input: string): Promise<number> {
  const output = `bench-raw-out-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: output, numPartitions: PARTITIONS }]);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: `bench-raw-${randomUUID()}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: input, fromBeginning: true });
  let seen = 0;
  let start = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (start === 0) start = performance.now();
      const messages = batch.messages.map((m) => {
        const row = JSON.parse(m.value?.toString() ?? 'null') as Record<string, unknown>;
        return { value: JSON.stringify(row) };
      });
      await producer.send({ topic: output, messages });
      seen += batch.messages.length;
    },
  });
  while (seen < N) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - start) / 1000;
  await consumer.disconnect();
  await producer.disconnect();
  return N / seconds;
}

/** The median as Python's statistics.median (the Spark peer's): the mean of the middle two of an even count. */
function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rows per second from the first batch's start to the last batch's end. */
function rateOf(events: StreamingQueryProgress[]): number | undefined {
  const last = events.at(-1);
  if (!last) return undefined;
  const rows = events.reduce((n, e) => n + e.numInputRows, 0);
  const ms = Date.parse(last.timestamp) + (last.batchDuration ?? 0) - Date.parse(events[0]!.timestamp);
  return ms > 0 ? (rows * 1000) / ms : undefined;
}

/** Peak resident set (VmHWM) of a live process in KiB; 0 once it has exited. */
function vmHwmKiB(pid: number | undefined): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0; // the process has exited between two samples: its last sample stands
  }
}

interface EngineRun {
  /** First batch start to last batch end, every batch (the engine process is new: "cold"). */
  rowsPerSecond: number;
  /** The same without the first batch (Spark's "warm" figure excludes its first batch too). */
  warmRowsPerSecond: number | undefined;
  /** Peak resident set of the engine process (VmHWM, sampled until it exits), KiB. */
  peakRssKiB: number;
  batchP50Ms: number;
  /** The same over the run's first FIRST_BATCHES batches (the sample of latency runs before 2026-12-05). */
  batchP50MsFirst30: number;
  /** Median of each phase in the progress events' durationMs. */
  phaseP50Ms: Record<string, number>;
  batches: number;
  bytesPerKey: number | undefined;
  /** State entries at the last progress event (bounded by the watermark for a join). */
  stateRowsAtEnd: number | undefined;
}

async function engineRun(
  kafka: Kafka,
  brokers: string,
  input: string,
  name: string,
  sql: string,
  options: string,
  trigger: string,
  engine: string[],
  records = N,
  /** Joins: another source or a table, and the engine's environment. */
  extra: { sources?: string; tables?: string; env?: Record<string, string> } = {},
): Promise<EngineRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-engine-'));
  const queryId = `bench-${randomUUID()}`;
  const spec = path.join(dir, 'spec.yaml');
  fs.writeFileSync(
    spec,
    `name: ${name}\nsources:\n${clicksSource('clicks', input)}${extra.sources ?? ''}${extra.tables ?? ''}sql: |\n  ${sql}\nsink:\n  kafka: { topic: bench-out-${queryId} }\noutputMode: ${extra.sources ? 'append' : 'update'}\ntrigger: ${trigger}\noptions: ${options}\n`,
  );
  const progress = await collectProgress(kafka, queryId);
  const events = progress.events;
  const child = spawn(
    process.execPath,
    [...engine, ...engineRunArgs(spec, path.join(dir, 'ckpt'), queryId, brokers)],
    {
      cwd: ROOT,
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...extra.env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  let peakRssKiB = 0;
  const sampler = setInterval(() => (peakRssKiB = Math.max(peakRssKiB, vmHwmKiB(child.pid))), 200);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  // The spec and checkpoint (tens of MB for 200,000 records) are of no use after the run; a run
  // that failed keeps them for a look.
  if (code === 0) fs.rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`engine exited with ${code}`);
  await progress.stop();
  const withData = events.filter((e) => e.numInputRows > 0);
  const rows = withData.reduce((n, e) => n + e.numInputRows, 0);
  if (rows < records) throw new Error(`engine progress reports ${rows} of ${records} rows`);
  const lastEvent = withData.at(-1)!;
  const durations = withData.map((e) => e.batchDuration ?? 0);
  // The median of each phase the engine reports (walCommit, getBatch, addBatch, commitOffsets, …).
  const phases = [...new Set(withData.flatMap((e) => Object.keys(e.durationMs ?? {})))];
  const phaseP50Ms = Object.fromEntries(
    phases.map((k) => {
      const xs = withData.map((e) => e.durationMs?.[k] ?? 0).sort((a, b) => a - b);
      return [k, xs[Math.floor(xs.length / 2)] ?? 0];
    }),
  );
  const state = lastEvent.stateOperators?.[0];
  return {
    rowsPerSecond: rateOf(withData) ?? Number.NaN,
    warmRowsPerSecond: rateOf(withData.slice(1)),
    peakRssKiB,
    batchP50Ms: median(durations),
    batchP50MsFirst30: median(durations.slice(0, FIRST_BATCHES)),
    phaseP50Ms,
    batches: withData.length,
    bytesPerKey:
      state && state.numRowsTotal > 0 ? (state.memoryUsedBytes ?? 0) / state.numRowsTotal : undefined,
    stateRowsAtEnd: state?.numRowsTotal,
  };
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a && b ? +(a / b).toFixed(3) : null;

/** Sluice ÷ Spark for the same input and queries in this run; issue 20 §5's targets. */
function peerComparison(
  spark: SparkPeerResult,
  stateless: EngineRun,
  windowed: EngineRun,
  latency: EngineRun,
) {
  const sluiceRssKiB = Math.max(stateless.peakRssKiB, windowed.peakRssKiB, latency.peakRssKiB);
  const figures = {
    sparkVersion: spark.sparkVersion,
    spark: spark.runs,
    sluice: {
      stateless: {
        coldRowsPerSecond: stateless.rowsPerSecond,
        warmRowsPerSecond: stateless.warmRowsPerSecond ?? null,
      },
      windowed: {
        coldRowsPerSecond: windowed.rowsPerSecond,
        warmRowsPerSecond: windowed.warmRowsPerSecond ?? null,
      },
      latency: {
        batchP50Ms: latency.batchP50Ms,
        batchP50MsFirst30: latency.batchP50MsFirst30,
        batches: latency.batches,
      },
    },
    statelessWarmVsSpark: ratio(stateless.warmRowsPerSecond, spark.runs.stateless.warmRowsPerSecond),
    statelessColdVsSpark: ratio(stateless.rowsPerSecond, spark.runs.stateless.coldRowsPerSecond),
    windowedWarmVsSpark: ratio(windowed.warmRowsPerSecond, spark.runs.windowed.warmRowsPerSecond),
    windowedColdVsSpark: ratio(windowed.rowsPerSecond, spark.runs.windowed.coldRowsPerSecond),
    batchP50VsSpark: ratio(latency.batchP50Ms, spark.runs.latency.batchP50Ms),
    // Not a target: the sample of the runs before 2026-12-05 (LATENCY_RECORDS_WITH_PEER), from the same runs.
    batchP50VsSparkFirst30Batches: ratio(latency.batchP50MsFirst30, spark.runs.latency.batchP50MsFirst30),
    peakRssMiB: {
      sluiceEngine: Math.round(sluiceRssKiB / 1024),
      sparkJvm: Math.round(spark.peakRssKiB.jvm / 1024),
      sparkPython: Math.round(spark.peakRssKiB.python / 1024),
    },
  };
  return {
    ...figures,
    targets: {
      statelessWarmAtLeast1_2xSpark: (figures.statelessWarmVsSpark ?? 0) >= 1.2,
      windowedWarmAtLeast1_0xSpark: (figures.windowedWarmVsSpark ?? 0) >= 1.0,
      batchP50AtMost0_1xSpark: figures.batchP50VsSpark !== null && figures.batchP50VsSpark <= 0.1,
    },
  };
}

async function main(): Promise<void> {
  const config = loadStackConfig();
  await stackUp(log, config);
  const env = stackEnv(config);
  const kafka = createKafka({ brokers: parseBrokers(env.KAFKA_BROKERS), clientId: 'bench-engine' });
  const input = `bench-engine-in-${randomUUID()}`;
  const latencyInput = values.peer ? `bench-engine-latency-in-${randomUUID()}` : input;
  const latencyRecords = values.peer ? LATENCY_RECORDS_WITH_PEER : N;
  const admin = kafka.admin();
  await admin.connect();
  // Without a peer the latency run reads the main input (one topic: kafkajs refuses a repeated one).
  const inputs = [...new Set([input, latencyInput])];
  const onePartitionInput = `bench-engine-latency-1p-in-${randomUUID()}`;
  const onePartitionRecords = Math.min(N, LATENCY_RECORDS_WITH_PEER);
  await ensureTopics(admin, [
    ...inputs.map((topic) => ({ topic, numPartitions: PARTITIONS })),
    { topic: onePartitionInput, numPartitions: 1 },
    { topic: PROGRESS_TOPIC, numPartitions: 3 },
  ]);
  await admin.disconnect();
  log(`producing ${N} records`);
  await produceClicks(kafka, input, N);
  if (latencyInput !== input) await produceClicks(kafka, latencyInput, latencyRecords);
  await produceClicks(kafka, onePartitionInput, onePartitionRecords);
  // The engine as the control plane runs it: the esbuild bundle (engine-bundle.ts), not tsx.
  const engine = [await buildEngineBundle(ROOT, engineBundleDir(ROOT), (f) => log(`building ${f}`))];
  log('(a) raw consume→produce pipe');
  const raw = await rawPipe(kafka, input);
  log('(b) stateless filter + projection');
  const stateless = await engineRun(
    kafka,
    env.KAFKA_BROKERS,
    input,
    'bench-stateless',
    `SELECT id, upper(user_id) AS user_id, bytes * 2 AS bytes FROM clicks WHERE url LIKE '/product/%' OR bytes > 500`,
    '{ maxOffsetsPerTrigger: 50000 }',
    '{ availableNow: true }',
    engine,
  );
  log('(c) 1-minute windowed count by key');
  const windowed = await engineRun(
    kafka,
    env.KAFKA_BROKERS,
    input,
    'bench-windowed',
    WINDOWED_QUERY.sql,
    WINDOWED_QUERY.options,
    '{ availableNow: true }',
    engine,
  );
  log('(d) stream–static join with a 5,000-row PostgreSQL table');
  const pool = new Pool({ connectionString: env.DATABASE_URL });
  const table = `bench_users_${randomUUID().slice(0, 8)}`;
  await pool.query(`CREATE TABLE ${table} (user_id text, tier text)`);
  await pool.query(
    `INSERT INTO ${table} SELECT 'user-' || i, CASE WHEN i % 3 = 0 THEN 'gold' ELSE 'basic' END FROM generate_series(0, 4999) i`,
  );
  let staticJoin: EngineRun;
  try {
    staticJoin = await engineRun(
      kafka,
      env.KAFKA_BROKERS,
      input,
      'bench-static-join',
      `SELECT c.id, c.user_id, u.tier FROM clicks c JOIN users u ON c.user_id = u.user_id`,
      '{ maxOffsetsPerTrigger: 50000 }',
      '{ availableNow: true }',
      engine,
      N,
      {
        tables: `tables:\n  users:\n    table: ${table}\n    schema: { user_id: string, tier: string }\n    refresh: 1 minute\n`,
        env: { SLUICE_TABLE_POSTGRES_URLS: JSON.stringify({ default: env.DATABASE_URL }) },
      },
    );
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  }
  log('(e) stream–stream join with a second topic');
  const views = `bench-engine-views-${randomUUID()}`;
  const admin2 = kafka.admin();
  await admin2.connect();
  await ensureTopics(admin2, [{ topic: views, numPartitions: PARTITIONS }]);
  await admin2.disconnect();
  await produceClicks(kafka, views, N);
  const streamJoin = await engineRun(
    kafka,
    env.KAFKA_BROKERS,
    input,
    'bench-stream-join',
    `SELECT c.id, v.url FROM clicks c JOIN views v ON c.id = v.id AND v.ts BETWEEN c.ts AND c.ts + INTERVAL '1 minute'`,
    '{ maxOffsetsPerTrigger: 50000, numShufflePartitions: 4 }',
    '{ availableNow: true }',
    engine,
    2 * N,
    { sources: clicksSource('views', views) },
  );
  log('(f) session windows per user');
  const sessions = await engineRun(
    kafka,
    env.KAFKA_BROKERS,
    input,
    'bench-sessions',
    `SELECT user_id, session_window.start AS session_start, count(*) AS clicks FROM clicks GROUP BY user_id, session_window(ts, '30 seconds')`,
    '{ maxOffsetsPerTrigger: 50000, numShufflePartitions: 4 }',
    '{ availableNow: true }',
    engine,
  );
  // 1k-row batches at trigger 0: from the input's partitions, then the same from one partition
  // (one task, so one Kafka transaction per trigger instead of one per source partition: what
  // the difference costs, issue 20 §5).
  const latencyRun = (topic: string, name: string, records: number): Promise<EngineRun> =>
    engineRun(
      kafka,
      env.KAFKA_BROKERS,
      topic,
      name,
      LATENCY_QUERY.sql,
      LATENCY_QUERY.options,
      '{ availableNow: true }',
      engine,
      records,
    );
  log('batch latency: 1k-row batches at trigger 0');
  const latency = await latencyRun(latencyInput, 'bench-latency', latencyRecords);
  log('batch latency: 1k-row batches at trigger 0, one partition');
  const latencyOnePartition = await latencyRun(onePartitionInput, 'bench-latency-1p', onePartitionRecords);
  const spark = values.peer
    ? await runSparkPeer({
        root: ROOT,
        brokers: env.KAFKA_BROKERS,
        input,
        records: N,
        latencyInput,
        latencyRecords,
        firstBatches: FIRST_BATCHES,
        outputPrefix: `bench-spark-out-${randomUUID()}`,
        log,
      })
    : undefined;
  const result = {
    records: N,
    partitions: PARTITIONS,
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? 'cpu'}`,
    rawPipeRowsPerSecond: Math.round(raw),
    statelessRowsPerSecond: Math.round(stateless.rowsPerSecond),
    windowedRowsPerSecond: Math.round(windowed.rowsPerSecond),
    /** Without each run's first batch, as the peer comparison counts them (engine changes compare on these). */
    statelessWarmRowsPerSecond: roundOrNull(stateless.warmRowsPerSecond),
    windowedWarmRowsPerSecond: roundOrNull(windowed.warmRowsPerSecond),
    statelessVsRaw: +(stateless.rowsPerSecond / raw).toFixed(3),
    windowedVsRaw: +(windowed.rowsPerSecond / raw).toFixed(3),
    staticJoinRowsPerSecond: Math.round(staticJoin.rowsPerSecond),
    staticJoinVsRaw: +(staticJoin.rowsPerSecond / raw).toFixed(3),
    /** Input rows of both topics per second. */
    streamJoinRowsPerSecond: Math.round(streamJoin.rowsPerSecond),
    streamJoinVsRaw: +(streamJoin.rowsPerSecond / raw).toFixed(3),
    streamJoinStateRowsAtEnd: streamJoin.stateRowsAtEnd ?? null,
    sessionRowsPerSecond: Math.round(sessions.rowsPerSecond),
    sessionVsRaw: +(sessions.rowsPerSecond / raw).toFixed(3),
    batchP50MsAt1kRows: latency.batchP50Ms,
    phaseP50MsAt1kRows: latency.phaseP50Ms,
    /** The same from a 1-partition topic: one task and one transaction per trigger (not a target). */
    batchP50MsAt1kRowsOnePartition: latencyOnePartition.batchP50Ms,
    phaseP50MsAt1kRowsOnePartition: latencyOnePartition.phaseP50Ms,
    stateBytesPerKey: windowed.bytesPerKey === undefined ? null : Math.round(windowed.bytesPerKey),
    /** Each run's engine process at its peak (VmHWM). */
    enginePeakRssMiB: {
      stateless: Math.round(stateless.peakRssKiB / 1024),
      windowed: Math.round(windowed.peakRssKiB / 1024),
      latency: Math.round(latency.peakRssKiB / 1024),
    },
    targets: {
      statelessVsRawAtLeast0_6: stateless.rowsPerSecond / raw >= 0.6,
      windowedVsRawAtLeast0_4: windowed.rowsPerSecond / raw >= 0.4,
      batchP50AtMost50Ms: latency.batchP50Ms <= 50,
      stateAtMost200BytesPerKey: windowed.bytesPerKey !== undefined && windowed.bytesPerKey <= 200,
    },
    ...(spark ? { peer: peerComparison(spark, stateless, windowed, latency) } : {}),
  };
  process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
}

function roundOrNull(n: number | undefined): number | null {
  return n === undefined ? null : Math.round(n);
}

main().catch((e: Error) => {
  process.stderr.write(`bench:engine failed: ${e.message}\n`);
  process.exit(1);
});
