// The upgrade suites' own control-plane database and Redis database index on the local stack.
// An upgrade test runs real engines for minutes; another control plane on the shared `sluice`
// database (a developer's, or another suite's run at the same time) would reconcile its query
// too and start engines of its own, and a shared BullMQ queue would hand its operations to
// whichever control plane leads. Kafka and the sink database are shared (names are unique).
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { ROOT } from './support/test-app';

export interface IsolatedStack {
  /** DATABASE_URL and REDIS_URL of this suite's control plane. */
  env: { DATABASE_URL: string; REDIS_URL: string };
  token(role: 'admin' | 'operator' | 'viewer', name: string): string;
  drop(): Promise<void>;
}

export async function isolatedStack(name: string, redisDb: number): Promise<IsolatedStack> {
  const shared = process.env.DATABASE_URL ?? '';
  const admin = async (sql: string): Promise<void> => {
    const c = new Client({ connectionString: shared });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  const drop = () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await drop();
  await admin(`CREATE DATABASE "${name}"`);
  const db = new URL(shared);
  db.pathname = `/${name}`;
  const migrated = spawnSync('npm', ['run', '-s', 'db:migrate'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: db.toString() },
  });
  if (migrated.status !== 0) throw new Error(`db:migrate failed: ${migrated.stderr}`);
  const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:56379');
  redis.pathname = `/${redisDb}`;
  const r = new Redis(redis.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  await r.flushdb();
  r.disconnect();
  const env = { DATABASE_URL: db.toString(), REDIS_URL: redis.toString() };
  return {
    env,
    token: (role, tokenName) => {
      const out = spawnSync(
        'npm',
        ['run', '-s', 'cli', '--', 'token', 'create', '--role', role, '--name', tokenName],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } },
      );
      if (out.status !== 0) throw new Error(`token create failed: ${out.stderr}`);
      return out.stdout.trim();
    },
    drop,
  };
}
