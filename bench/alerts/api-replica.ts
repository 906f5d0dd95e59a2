// `bench:alerts --api-replica`: the API probed on a control plane of its own, not on the process
// that evaluates. A control (not a deployment topology the chart ships): the replica is the real
// control plane, started as the suites start one (control-plane-process.ts), on the bench's
// database, in a cluster of its own with no queries, its evaluation, reconcile and scaling timers
// at their maximum (10 minutes), so it serves the API and does next to nothing else. What is left
// of "during − idle" is then what the evaluation costs the API without sharing its event loop or
// heap: the box's CPUs and PostgreSQL, which the evaluating process and the replica still share.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startControlPlane } from '../../apps/control-plane/test/support/control-plane-process';

export interface ApiReplica {
  base: string;
  stop(): Promise<void>;
}

export async function startApiReplica(databaseUrl: string): Promise<ApiReplica> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-api-replica-'));
  const cp = await startControlPlane({
    home,
    readyTimeoutMs: 120_000,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      SLUICE_CLUSTER_NAME: `bench-api-replica-${process.pid}`,
      SLUICE_ALERT_EVAL_INTERVAL_MS: '600000',
      SLUICE_RECONCILE_INTERVAL_MS: '600000',
      SLUICE_SCALING_INTERVAL_MS: '600000',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    },
  });
  // A bench that fails part-way leaves no control plane behind.
  const reap = () => void cp.kill();
  process.once('exit', reap);
  return {
    base: cp.base,
    stop: async () => {
      process.off('exit', reap);
      await cp.stop();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
