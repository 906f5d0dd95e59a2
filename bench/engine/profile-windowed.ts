// `npx tsx bench/engine/profile-windowed.ts [--records N] [--prof-dir DIR] [--query windowed|latency]`
// — bench:engine's (c) windowed count alone (or, with `--query latency`, its 1k-row latency query),
// its engine under `node --cpu-prof`: where a record's or a trigger's time goes (issue 20 §5).
// Prints the engine's progress phases (totals) and the profile's path.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { buildEngineBundle, engineBundleDir } from '../../apps/control-plane/src/runtime/engine-bundle';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { clicksSource, engineRunArgs, namedQueryOrExit } from './bench-queries';
import { produceClicks } from './click-input';
import { collectProgress } from './progress-collector';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Where a sample's time goes: the nearest frame on its stack naming one of these (the engine's
 * own functions and kafkajs's; the bundle keeps function names). Frames cut off by an async
 * boundary (kafkajs encoding each record in a promise callback) land in "other".
 */
const CATEGORIES: Array<[string, string[]]> = [
  ['GC', ['(garbage collector)']],
  ['idle', ['(idle)']],
  ['input JSON parse', ['decodeRecord']],
  ['shuffle row serialisation', ['packBatchRecords', 'rowMessage', 'singleRowBatchBytes']],
  ['group assignment', ['groups', 'groupReason']],
  ['source stage, other', ['runSourceStage', 'runSourceStageInSlices']],
  ['state store commit', ['commit']],
  ['shuffle stage (parse + state update)', ['runShuffleStage', 'decodeShuffledRecord']],
  ['sink formatting', ['toSink', 'stage']],
  ['kafkajs produce', ['createProducerRequests', 'sendMessages', 'produce', 'encode', 'send', 'sendRequest']],
  [
    'kafkajs fetch decode',
    ['decodeMessages', 'decodeRecords', 'decode', 'fetch', 'readArray', 'decodePartition'],
  ],
  ['kafkajs consumer loop', ['onBatch', 'handleBatch', 'processEachBatch', 'eachBatch']],
  ['checkpoint files', ['writeOffsets', 'writeCommit', 'putIfAbsent', 'fsyncDir']],
  ['module load', ['Module._load', 'wrapSafe']],
];

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** Milliseconds per category of a .cpuprofile (V8's format). */
function breakdown(file: string): Record<string, number> {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const category = new Map<string, string>();
  for (const [name, fns] of CATEGORIES) for (const f of fns) category.set(f, name);
  const out: Record<string, number> = {};
  p.samples.forEach((id, i) => {
    let cur: number | undefined = id;
    let name = 'other';
    while (cur !== undefined) {
      const hit = category.get(byId.get(cur)!.callFrame.functionName);
      if (hit) {
        name = hit;
        break;
      }
      cur = parent.get(cur);
    }
    out[name] = (out[name] ?? 0) + (p.timeDeltas[i] ?? 0) / 1000;
  });
  return Object.fromEntries(
    Object.entries(out)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, Math.round(v)]),
  );
}
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    'prof-dir': { type: 'string' },
    query: { type: 'string', default: 'windowed' },
  },
});
const query = namedQueryOrExit('profile-windowed', values.query);
const N = Number(values.records);
if (!Number.isInteger(N) || N < 1000) {
  process.stderr.write('profile-windowed: --records must be an integer ≥ 1000\n');
  process.exit(1);
}

async function main(): Promise<void> {
  const env = stackEnv(loadStackConfig());
  const brokers = env.KAFKA_BROKERS;
  const kafka = createKafka({ brokers: parseBrokers(brokers), clientId: 'bench-profile' });
  const input = `bench-profile-in-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 4 }]);
  await admin.disconnect();
  await produceClicks(kafka, input, N);
  const bundle = await buildEngineBundle(ROOT, engineBundleDir(ROOT));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-profile-windowed-'));
  const profDir = values['prof-dir'] ?? path.join(dir, 'profile');
  fs.mkdirSync(profDir, { recursive: true });
  const before = new Set(fs.readdirSync(profDir));
  const queryId = `bench-${randomUUID()}`;
  const spec = path.join(dir, 'spec.yaml');
  fs.writeFileSync(
    spec,
    `name: bench-${values.query}\nsources:\n${clicksSource('clicks', input)}sql: |\n  ${query.sql}\nsink:\n  kafka: { topic: bench-out-${queryId} }\noutputMode: update\ntrigger: { availableNow: true }\noptions: ${query.options}\n`,
  );
  const progress = await collectProgress(kafka, queryId);
  const events = progress.events;
  const child = spawn(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${profDir}`,
      bundle,
      ...engineRunArgs(spec, path.join(dir, 'ckpt'), queryId, brokers),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await progress.stop();
  if (code !== 0) throw new Error(`engine exited with ${code}`);
  const withData = events.filter((e) => e.numInputRows > 0);
  const rows = withData.reduce((n, e) => n + e.numInputRows, 0);
  const last = withData.at(-1);
  const ms = last
    ? Date.parse(last.timestamp) + (last.batchDuration ?? 0) - Date.parse(withData[0]!.timestamp)
    : 0;
  const phases = [...new Set(withData.flatMap((e) => Object.keys(e.durationMs ?? {})))];
  const sum = Object.fromEntries(
    phases.map((k) => [k, withData.reduce((n, e) => n + (e.durationMs?.[k] ?? 0), 0)]),
  );
  const profile = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
  const cpuMs = profile ? breakdown(path.join(profDir, profile)) : {};
  process.stdout.write(
    `${JSON.stringify({ cpuMs, rows, batches: withData.length, rowsPerSecond: Math.round((rows * 1000) / ms), phaseTotalsMs: sum, events: withData.map((e) => ({ rows: e.numInputRows, sources: e.sources.map((x) => [x.description, x.numInputRows]), ms: e.durationMs })), profile: profile && path.join(profDir, profile) }, null, 1)}\n`,
  );
}

main().catch((e: Error) => {
  process.stderr.write(`profile-windowed failed: ${e.message}\n`);
  process.exit(1);
});
