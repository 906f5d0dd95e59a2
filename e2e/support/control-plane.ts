// A real control plane for the e2e suite and bench:dashboard: its own PostgreSQL database and Redis
// index on the shared local stack, its own SLUICE_HOME, the real engine (local runtime), and an
// admin bootstrap token; plus viewer and operator tokens made through the API.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '@sluice/testing';
import { startControlPlane } from '../../apps/control-plane/test/support/control-plane-process';
import {
  createThrowawayDatabase,
  emptyRedisDatabase,
} from '../../apps/control-plane/test/support/throwaway-database';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';

export interface E2EControlPlane {
  base: string;
  brokers: string;
  tokens: { admin: string; operator: string; viewer: string };
  home: string;
  stop(): Promise<void>;
}

export async function startE2EControlPlane(opts: {
  database: string;
  redisDb: number;
  workDir: string;
  log: (m: string) => void;
  env?: Record<string, string>;
}): Promise<E2EControlPlane> {
  const config = loadStackConfig();
  await stackUp(opts.log, config);
  const shared = stackEnv(config);
  const db = await createThrowawayDatabase(shared.DATABASE_URL, opts.database);
  const redis = new URL(shared.REDIS_URL);
  redis.pathname = `/${opts.redisDb}`;
  await emptyRedisDatabase(redis.toString());
  const home = path.join(opts.workDir, 'home');
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  const port = await freePort();
  const admin = `slc_e2e_${randomBytes(24).toString('hex')}`;
  opts.log(`starting a control plane on port ${port} (database ${opts.database})`);
  let cp;
  try {
    cp = await startControlPlane({
      port,
      home,
      logFile: path.join(opts.workDir, 'control-plane.log'),
      readyTimeoutMs: 120_000,
      env: {
        ...process.env,
        ...shared,
        DATABASE_URL: db.url,
        REDIS_URL: redis.toString(),
        SLUICE_API_PORT: String(port),
        SLUICE_HOME: home,
        SLUICE_BOOTSTRAP_TOKEN: admin,
        SLUICE_RECONCILE_INTERVAL_MS: '1000',
        SLUICE_INSTANCE_SETTLE_MS: '500',
        SLUICE_ALERT_EVAL_INTERVAL_MS: '1000',
        // Its own progress-ingest group: control planes without a cluster name share one group on
        // the shared broker and split each other's progress events between them.
        SLUICE_CLUSTER_NAME: opts.database.replace(/_/g, '-'),
        LOG_LEVEL: 'warn',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        ...opts.env,
      },
    });
  } catch (e) {
    await db.drop();
    throw e;
  }
  const token = async (role: 'operator' | 'viewer') => {
    const r = await fetch(`${cp.base}/api/v1/tokens`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: `e2e-${role}`, role }),
    });
    if (r.status !== 201) throw new Error(`token create: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { token: string }).token;
  };
  const tokens = { admin, operator: await token('operator'), viewer: await token('viewer') };
  return {
    base: cp.base,
    brokers: shared.KAFKA_BROKERS,
    tokens,
    home,
    stop: async () => {
      await cp.stop();
      await db.drop();
    },
  };
}
