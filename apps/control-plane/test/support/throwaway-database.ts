// A control-plane database of its own on the local stack's PostgreSQL, and an emptied Redis
// database index, for a run that must not share the `sluice` database: the upgrade suites (another
// control plane on the shared database would reconcile their queries and start engines of its
// own), the schemathesis fuzz run and the e2e suite (whatever they create or delete never touches
// what other suites and developers use). Recreated empty at the start (a killed run may have left
// it behind); dropped by `drop()`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createThrowawayDatabase(sharedUrl: string, name: string): Promise<ThrowawayDatabase> {
  // The name is interpolated into DDL (identifiers cannot be bound): only plain names.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
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
  await migrate(url.toString());
  return { url: url.toString(), drop };
}

/** Empties one Redis database index (only ever the run's own). */
export async function emptyRedisDatabase(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}

/** The project's own migration command (npm run db:migrate), as a deployment applies it. */
function migrate(databaseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'db:migrate'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`db:migrate exited with ${code}: ${stderr}`)),
    );
  });
}
