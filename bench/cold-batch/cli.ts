// `npm run -s bench:cold-batch -- [--pairs 3] [--cpus 0.1] [--warm-up-records 5000] [--json]`
// A new engine process's first batch, with and without the batch-path warm-up
// (apps/engine/src/exec/batch-path-warmup.ts), under a per-process CPU limit as the local runtime
// applies it (cpu-limit.ts): each run is a new query on one 4-partition source topic holding a
// 40,000-record backlog of the live autoscaling bench's records, read from the earliest offset,
// so its first batch is the 5,000 records a process that has measured nothing reads
// (INITIAL_BATCH_RECORDS). The query is the live bench's (autoscale-live/live-query.ts). Runs alternate without and with the warm-up (`--pairs` of each), so a
// drift of the box falls on both arms. Reported per run from the engine's own progress events
// (sluice.progress): the first batch's duration and its parts, the start to the first batch, and
// the warm-up's own time from the engine log; medians per arm, and their ratio. Uses the running
// stack's broker (`npm run -s stack:up`); its topics are deleted at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROGRESS_TOPIC } from '@sluice/contracts';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { bundledEngineCommand, engineBundleDir } from '../../apps/control-plane/src/runtime/engine-bundle';
import { applyCpuLimit, checkCpuLimit, removeCpuGroup } from '../../apps/control-plane/src/runtime/cpu-limit';
import { DEFAULT_WARMUP_RECORDS, MAX_WARMUP_RECORDS } from '../../apps/engine/src/exec/batch-path-warmup';
import { liveQuerySpec } from '../autoscale-live/live-query';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '3' },
    cpus: { type: 'string', default: '0.1' },
    'warm-up-records': { type: 'string', default: String(DEFAULT_WARMUP_RECORDS) },
    json: { type: 'boolean', default: false },
  },
});

function fail(msg: string): never {
  process.stderr.write(`bench:cold-batch: ${msg}\n`);
  process.exit(1);
}
const PAIRS = Number(values.pairs);
if (!Number.isInteger(PAIRS) || PAIRS < 1 || PAIRS > 20) fail('--pairs must be an integer from 1 to 20');
const CPUS = Number(values.cpus);
try {
  checkCpuLimit(CPUS);
} catch (e) {
  fail(`--cpus: ${(e as Error).message}`);
}
const WARMUP = Number(values['warm-up-records']);
if (!Number.isInteger(WARMUP) || WARMUP < 1 || WARMUP > MAX_WARMUP_RECORDS)
  fail(`--warm-up-records must be an integer from 1 to ${MAX_WARMUP_RECORDS}`);

const ROOT = path.resolve(__dirname, '../..');
const PARTITIONS = 4;
const BACKLOG = 40_000;
/** A run that has not reported its first batches by then has failed. */
const RUN_TIMEOUT_MS = 180_000;
/** Batches with rows each run waits for: the first, and two to show the warm rate beside it. */
const BATCHES = 3;

interface Progress {
  batchId: number;
  timestamp: string;
  numInputRows: number;
  batchDuration: number;
  durationMs: Record<string, number>;
}

interface RunResult {
  arm: 'cold' | 'warmed';
  warmupRecords: number;
  /** Spawn to the end of the first batch with rows. */
  startToFirstBatchMs: number;
  firstBatch: { rows: number; ms: number; getBatch: number; addBatch: number; commitOffsets: number };
  /** The next batches, for the warm rate (rows, ms). */
  later: Array<{ rows: number; ms: number }>;
  /** The engine's "batch path warmed" figure (warmed arm). */
  warmupMs?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const env = stackEnv(loadStackConfig());
  const brokers = parseBrokers(env.KAFKA_BROKERS);
  const kafka = createKafka({ clientId: 'bench-cold-batch', brokers });
  const tag = randomBytes(3).toString('hex');
  const source = `bench-cold-batch-in-${tag}`;
  const topics = [source];
  const admin = kafka.admin();
  await admin.connect();
  const progress = new Map<string, Progress[]>();
  const reader = kafka.consumer({ groupId: `bench-cold-batch-${tag}` });
  try {
    await ensureTopics(admin, [{ topic: source, numPartitions: PARTITIONS }]);
    const producer = kafka.producer();
    await producer.connect();
    // The live autoscaling bench's record shape (bench/autoscale-live/run-live.ts).
    for (let b = 0; b < BACKLOG / 2000; b++)
      await producer.send({
        topic: source,
        messages: Array.from({ length: 2000 }, (_, i) => ({
          value: JSON.stringify({
            user_id: `u${(b * 2000 + i) % 977}`,
            url: `/p/${i % 131}`,
            ts: new Date(Date.UTC(2026, 0, 1) + b * 2000 + i).toISOString(),
            bytes: (i * 7) % 10_000,
          }),
        })),
      });
    await producer.disconnect();
    await reader.connect();
    await reader.subscribe({ topic: PROGRESS_TOPIC, fromBeginning: false });
    await reader.run({
      eachMessage: async ({ message }) => {
        const list = progress.get(message.key?.toString() ?? '');
        if (list && message.value) list.push(JSON.parse(message.value.toString()) as Progress);
      },
    });
    const command = await bundledEngineCommand(ROOT, engineBundleDir(ROOT));
    const results: RunResult[] = [];
    for (let pair = 0; pair < PAIRS; pair++)
      for (const arm of ['cold', 'warmed'] as const) {
        const r = await runOnce(command, brokers[0]!, source, arm, `${tag}-${pair}`, progress, topics, admin);
        results.push(r);
        process.stderr.write(
          `${arm.padEnd(6)} first batch ${r.firstBatch.rows} rows in ${r.firstBatch.ms} ms (getBatch ${r.firstBatch.getBatch}, addBatch ${r.firstBatch.addBatch}, commitOffsets ${r.firstBatch.commitOffsets}); start → first batch ${r.startToFirstBatchMs} ms${r.warmupMs !== undefined ? `; warm-up ${r.warmupMs} ms` : ''}; then ${r.later.map((l) => `${l.rows} in ${l.ms}`).join(', ')}\n`,
        );
      }
    const arm = (a: RunResult['arm']) => results.filter((r) => r.arm === a);
    const summary = {
      cpus: CPUS,
      pairs: PAIRS,
      warmupRecords: WARMUP,
      firstBatchMedianMs: {
        cold: median(arm('cold').map((r) => r.firstBatch.ms)),
        warmed: median(arm('warmed').map((r) => r.firstBatch.ms)),
      },
      startToFirstBatchMedianMs: {
        cold: median(arm('cold').map((r) => r.startToFirstBatchMs)),
        warmed: median(arm('warmed').map((r) => r.startToFirstBatchMs)),
      },
      warmupMedianMs: median(arm('warmed').map((r) => r.warmupMs ?? NaN)),
      runs: results,
    };
    const ratio = summary.firstBatchMedianMs.warmed / summary.firstBatchMedianMs.cold;
    if (values.json)
      process.stdout.write(`${JSON.stringify({ ...summary, firstBatchRatio: ratio }, null, 2)}\n`);
    else
      process.stdout.write(
        `first batch (median of ${PAIRS}): cold ${summary.firstBatchMedianMs.cold} ms, warmed ${summary.firstBatchMedianMs.warmed} ms (${ratio.toFixed(2)}×); start → first batch: cold ${summary.startToFirstBatchMedianMs.cold} ms, warmed ${summary.startToFirstBatchMedianMs.warmed} ms; warm-up ${summary.warmupMedianMs} ms\n`,
      );
  } finally {
    await reader.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}

async function runOnce(
  command: string[],
  broker: string,
  source: string,
  arm: RunResult['arm'],
  runTag: string,
  progress: Map<string, Progress[]>,
  topics: string[],
  admin: ReturnType<ReturnType<typeof createKafka>['admin']>,
): Promise<RunResult> {
  const queryId = `bench-cold-batch-${arm}-${runTag}`;
  const sink = `bench-cold-batch-out-${arm}-${runTag}`;
  topics.push(sink, `sluice.${queryId}.dlq`);
  await ensureTopics(admin, [{ topic: sink, numPartitions: 1 }]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-batch-'));
  const spec = path.join(dir, 'spec.yaml');
  fs.writeFileSync(spec, liveQuerySpec({ name: queryId, source, sink, triggerMs: 1000 }));
  progress.set(queryId, []);
  const [node, ...rest] = command;
  const started = Date.now();
  const child = spawn(
    node!,
    [
      ...rest,
      'run',
      '--spec',
      spec,
      '--checkpoint',
      path.join(dir, 'cp'),
      '--query-id',
      queryId,
      '--brokers',
      broker,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SLUICE_WARMUP_RECORDS: arm === 'cold' ? '0' : String(WARMUP) },
    },
  );
  let log = '';
  let errors = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  const limit = applyCpuLimit(child.pid!, CPUS, queryId);
  if (!limit.applied) {
    child.kill('SIGKILL');
    throw new Error(`CPU limit not applied: ${limit.reason}`);
  }
  try {
    const withRows = () => progress.get(queryId)!.filter((p) => p.numInputRows > 0);
    // Until BATCHES batches, or the whole backlog read (an unlimited engine reads it in two).
    const read = () => withRows().reduce((n, p) => n + p.numInputRows, 0);
    while (withRows().length < BATCHES && read() < BACKLOG) {
      if (Date.now() - started > RUN_TIMEOUT_MS)
        throw new Error(
          `${queryId}: ${withRows().length} batches in ${RUN_TIMEOUT_MS} ms\n${errors.slice(-2000)}`,
        );
      if (child.exitCode !== null)
        throw new Error(`${queryId} exited ${child.exitCode}\n${errors.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const [first, ...later] = withRows().sort((a, b) => a.batchId - b.batchId);
    const warmed = log
      .split('\n')
      .filter((l) => l.includes('"batch path warmed"'))
      .map((l) => (JSON.parse(l) as { elapsedMs: number }).elapsedMs);
    return {
      arm,
      warmupRecords: arm === 'cold' ? 0 : WARMUP,
      startToFirstBatchMs: Date.parse(first!.timestamp) + first!.batchDuration - started,
      firstBatch: {
        rows: first!.numInputRows,
        ms: first!.batchDuration,
        getBatch: first!.durationMs.getBatch ?? 0,
        addBatch: first!.durationMs.addBatch ?? 0,
        commitOffsets: first!.durationMs.commitOffsets ?? 0,
      },
      later: later.slice(0, BATCHES - 1).map((p) => ({ rows: p.numInputRows, ms: p.batchDuration })),
      ...(warmed.length > 0 ? { warmupMs: warmed[0] } : {}),
    };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    removeCpuGroup(limit.group);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`bench:cold-batch: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
