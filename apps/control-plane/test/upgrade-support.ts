// The upgrade suites' own control-plane database and Redis database index on the local stack.
// An upgrade test runs real engines for minutes; another control plane on the shared `sluice`
// database (a developer's, or another suite's run at the same time) would reconcile its query
// too and start engines of its own, and a shared BullMQ queue would hand its operations to
// whichever control plane leads. Kafka and the sink database are shared (names are unique).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ROOT } from './support/test-app';
import { createThrowawayDatabase, emptyRedisDatabase } from './support/throwaway-database';

export interface IsolatedStack {
  /** DATABASE_URL and REDIS_URL of this suite's control plane. */
  env: { DATABASE_URL: string; REDIS_URL: string };
  token(role: 'admin' | 'operator' | 'viewer', name: string): string;
  drop(): Promise<void>;
}

/**
 * `name` is the database's prefix: a random suffix makes it this run's alone, so the same suite run
 * from two checkouts on one stack never drops or migrates the other's database. (Its Redis index is
 * still the suite's: REDIS_INDEXES in support/redis-indexes.ts.)
 */
export async function isolatedStack(name: string, redisDb: number): Promise<IsolatedStack> {
  const db = await createThrowawayDatabase(
    process.env.DATABASE_URL ?? '',
    `${name}_${randomBytes(4).toString('hex')}`,
  );
  const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:56379');
  redis.pathname = `/${redisDb}`;
  await emptyRedisDatabase(redis.toString());
  const env = { DATABASE_URL: db.url, REDIS_URL: redis.toString() };
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
    drop: db.drop,
  };
}
