// `npx tsx bench/engine/idle-cpu.ts [--seconds 30] [--query latency|windowed]` — the CPU an engine
// burns with nothing to do: a query over an empty topic at a 1 s trigger, its process's user +
// system time over `--seconds` after a 10 s settle (/proc/<pid>/stat). A cluster runs many such
// engines waiting for input, and a CPU-limited pod (the live autoscale bench's 0.1 CPU) pays this
// out of its quota. Prints JSON: { seconds, cpuMsPerSecond, triggers }.
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
import { collectProgress } from './progress-collector';

const ROOT = path.resolve(__dirname, '..', '..');
const SETTLE_MS = 10_000;

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '30' }, query: { type: 'string', default: 'latency' } },
});
const SECONDS = Number(values.seconds);
const query = namedQueryOrExit('idle-cpu', values.query);
if (!Number.isInteger(SECONDS) || SECONDS < 1 || SECONDS > 3600) {
  process.stderr.write('idle-cpu: --seconds must be an integer in 1..3600\n');
  process.exit(1);
}

/** utime + stime of a process, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const env = stackEnv(loadStackConfig());
  const kafka = createKafka({ brokers: parseBrokers(env.KAFKA_BROKERS), clientId: 'bench-idle-cpu' });
  const input = `bench-idle-in-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 4 }]);
  const bundle = await buildEngineBundle(ROOT, engineBundleDir(ROOT));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-idle-cpu-'));
  const queryId = `bench-${randomUUID()}`;
  const spec = path.join(dir, 'spec.yaml');
  fs.writeFileSync(
    spec,
    `name: bench-idle\nsources:\n${clicksSource('clicks', input)}sql: |\n  ${query.sql}\nsink:\n  kafka: { topic: bench-out-${queryId} }\noutputMode: update\ntrigger: { processingTime: 1 second }\noptions: ${query.options}\n`,
  );
  const progress = await collectProgress(kafka, queryId);
  const child = spawn(
    process.execPath,
    [bundle, ...engineRunArgs(spec, path.join(dir, 'ckpt'), queryId, env.KAFKA_BROKERS)],
    {
      cwd: ROOT,
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const pid = child.pid!;
    const before = cpuMs(pid);
    const events = progress.events.length;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const used = cpuMs(pid) - before;
    process.stdout.write(
      `${JSON.stringify({ seconds: SECONDS, cpuMsPerSecond: +(used / SECONDS).toFixed(1), triggers: progress.events.length - events })}\n`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await progress.stop();
    await admin.deleteTopics({ topics: [input] }).catch(() => undefined);
    await admin.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`idle-cpu: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
