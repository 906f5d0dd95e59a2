// `npm run db:migrate` applies the migrations to an empty database through the WASM schema
// engine, and a second run is a no-op.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const baseUrl = process.env.DATABASE_URL ?? 'postgresql://sluice@127.0.0.1:55432/sluice';
const dbName = `sluice_migrations_it_${process.pid}`;
const url = new URL(baseUrl);
url.pathname = `/${dbName}`;
let admin: Client;

function migrate(): string {
  const r = spawnSync('npm', ['run', '-s', 'db:migrate'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: url.toString() },
  });
  if (r.status !== 0) throw new Error(`db:migrate exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${dbName}"`);
});

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
});

describe('npm run db:migrate', () => {
  it('applies every migration to an empty database, then a second run does nothing', async () => {
    const dirs = fs
      .readdirSync(path.join(ROOT, 'prisma/migrations'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(migrate()).toBe(`applied: ${dirs.join(', ')}`);
    expect(migrate()).toBe('database is up to date');

    const db = new Client({ connectionString: url.toString() });
    await db.connect();
    try {
      const tables = await db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'Alert',
        'AlertQueryHistory',
        'AlertRule',
        'AlertTransition',
        'ApiToken',
        'AuditLog',
        'Deployment',
        'Instance',
        'NotificationDelivery',
        'NotificationGroup',
        'Operation',
        'ProgressEvent',
        'Query',
        'QueryVersion',
        'Receiver',
        'ScalingEvent',
        'Silence',
        'SinkConnection',
        '_prisma_migrations',
      ]);
      const applied = await db.query<{ migration_name: string; finished_at: Date | null }>(
        'SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name',
      );
      expect(applied.rows.map((r) => r.migration_name)).toEqual(dirs);
      expect(applied.rows.every((r) => r.finished_at !== null)).toBe(true);
    } finally {
      await db.end();
    }
  });
});
