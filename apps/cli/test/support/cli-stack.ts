// What the CLI's integration tests run against: the real control plane as a child process (the
// same entry point as `npm run control-plane`) on a free port with its own SLUICE_HOME, tokens
// made by the offline `npm run cli -- token create`, Kafka topics with records, and the built
// `sluice` binary spawned with a temporary XDG_CONFIG_HOME.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { freePort } from '@sluice/testing';

export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const SLUICE_BIN = path.join(ROOT, 'apps', 'cli', 'bin', 'sluice.js');

export interface ControlPlane {
  base: string;
  home: string;
  /** SLUICE_CLUSTER_NAME: alert rules made by a test name it, so only this leader evaluates them. */
  cluster: string;
  stop(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-cp-'));
  const port = await freePort();
  const cluster = `cli-it-${randomUUID().slice(0, 8)}`;
  const logFile = path.join(home, 'control-plane.log');
  const log = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      SLUICE_HOME: home,
      SLUICE_API_PORT: String(port),
      SLUICE_METRICS_ACCESS: 'token',
      SLUICE_RECONCILE_INTERVAL_MS: '1000',
      SLUICE_INSTANCE_SETTLE_MS: '500',
      SLUICE_CLUSTER_NAME: cluster,
      // Alert rules are evaluated every second (default 10 s), so a test's alert fires quickly.
      SLUICE_ALERT_EVAL_INTERVAL_MS: '1000',
    },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await terminate(child, exited);
    killEngines(home);
  };
  // Most of the hook timeout (180 s): on a loaded 2-core box, compiling the control plane with
  // SWC alone has taken two minutes.
  const deadline = Date.now() + 170_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`control plane exited early; log: ${fs.readFileSync(logFile, 'utf8')}`);
    const ok = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`control plane not ready on ${base}; log: ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { base, home, cluster, stop };
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Engines outlive the control plane (detached); each pid file is under <home>/instances. */
function killEngines(home: string): void {
  const instances = path.join(home, 'instances');
  if (!fs.existsSync(instances)) return;
  for (const q of fs.readdirSync(instances))
    for (const i of fs.readdirSync(path.join(instances, q))) {
      const pidFile = path.join(instances, q, i, 'pid');
      if (!fs.existsSync(pidFile)) continue;
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      const cmdline = (() => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      })();
      // Only a process that is still this instance's engine: a pid may be reused once it exits.
      if (pid > 0 && cmdline.includes(instances)) process.kill(pid, 'SIGKILL');
    }
}

/** A token made offline, as the first admin token is (`npm run cli -- token create`). */
export function createToken(role: 'admin' | 'operator' | 'viewer', name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npm',
      ['run', '-s', 'cli', '--', 'token', 'create', '--role', role, '--name', name],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`token create failed: ${err}`)),
    );
  });
}

export async function produceEvents(topic: string, count: number, partitions = 2): Promise<void> {
  const kafka = createKafka({ brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''), clientId: 'cli-it' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: partitions }]);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({
      value: JSON.stringify({ user_id: `u${i % 5}`, amount: i }),
    })),
  });
  await producer.disconnect();
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node apps/cli/bin/sluice.js ARGS` to the end (not a TTY: plain progress lines). */
export function sluice(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnSluice(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin!.end(input ?? '');
  });
}

export function spawnSluice(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [SLUICE_BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function eventsSpec(name: string, sourceTopic: string, sinkTopic: string): string {
  return [
    `name: ${name}`,
    'sources:',
    '  events:',
    `    kafka: { topic: ${sourceTopic}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { user_id: string, amount: long }',
    'sql: SELECT user_id, amount FROM events WHERE amount > 10',
    'sink:',
    `  kafka: { topic: ${sinkTopic} }`,
    'trigger: { processingTime: 500 milliseconds }',
    '',
  ].join('\n');
}

export async function forgetQueries(suffix: string): Promise<void> {
  const { Pool } = await import('pg');
  const pool = new Pool({ connectionString: process.env.DATABASE_URL });
  try {
    await pool.query(`DELETE FROM "Query" WHERE name LIKE $1`, [`%${suffix}%`]);
  } finally {
    await pool.end();
  }
}
