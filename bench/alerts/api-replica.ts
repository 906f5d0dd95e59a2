// `bench:alerts --api-replica`: the API probed on a control plane of its own, not on the process
// that evaluates. A control (not a deployment topology the chart ships): the replica is the real
// control plane (apps/control-plane/src/main.ts) on the bench's database, in a cluster of its own
// with no queries, its evaluation, reconcile and scaling timers at their maximum (10 minutes), so
// it serves the API and does next to nothing else. What is left of "during − idle" is then what
// the evaluation costs the API without sharing its event loop or heap: the box's CPUs and
// PostgreSQL, which the evaluating process and the replica still share.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface ApiReplica {
  base: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 120_000;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export async function startApiReplica(root: string, databaseUrl: string): Promise<ApiReplica> {
  const port = await freePort();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-api-replica-'));
  const child: ChildProcess = spawn('node', ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      SLUICE_CLUSTER_NAME: `bench-api-replica-${process.pid}`,
      SLUICE_API_HOST: '127.0.0.1',
      SLUICE_API_PORT: String(port),
      SLUICE_HOME: home,
      SLUICE_ALERT_EVAL_INTERVAL_MS: '600000',
      SLUICE_RECONCILE_INTERVAL_MS: '600000',
      SLUICE_SCALING_INTERVAL_MS: '600000',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // A bench that fails part-way leaves no control plane behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API replica exited (${child.exitCode}) before serving`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the API replica did not serve ${base}/healthz within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    base,
    stop: async () => {
      process.off('exit', reap);
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
