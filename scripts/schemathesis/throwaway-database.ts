// Databases of its own for the fuzzed control plane, on the local stack's PostgreSQL and Redis:
// whatever schemathesis creates, changes or deletes (queries, tokens, audit rows, operation jobs)
// never touches the shared `sluice` database or the Redis keys other suites and developers use.
// Recreated empty at the start (a killed run may have left them behind); PostgreSQL's is dropped
// at the end.
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { applyMigrations } from '../../prisma/migrate';

export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createThrowawayDatabase(sharedUrl: string, name: string): Promise<ThrowawayDatabase> {
  const admin = async (sql: string): Promise<void> => {
    const c = new Client({ connectionString: sharedUrl });
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
  const url = new URL(sharedUrl);
  url.pathname = `/${name}`;
  await applyMigrations(url.toString());
  return { url: url.toString(), drop };
}

/** Empties one Redis database index (only ever the fuzz run's own, under the run lock). */
export async function emptyRedisDatabase(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
