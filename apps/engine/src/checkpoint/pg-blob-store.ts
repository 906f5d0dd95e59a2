// PostgreSQL blob store for multi-pod deployments: one row per checkpoint file in
// sluice_engine.checkpoint_files, keyed by (namespace, path). The engine creates its own schema
// (it does not go through the control plane's Prisma migrations); DDL runs under an advisory
// lock because concurrent `CREATE ... IF NOT EXISTS` can still race in PostgreSQL.
import type { Pool } from 'pg';
import type { BlobStore } from './blob-store';
import { createPool, type PoolWarn } from '../pg/create-pool';
import { withTransaction } from '../pg/with-transaction';

const DDL = [
  'CREATE SCHEMA IF NOT EXISTS sluice_engine',
  `CREATE TABLE IF NOT EXISTS sluice_engine.checkpoint_files (
     namespace text NOT NULL,
     path text NOT NULL,
     data bytea NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (namespace, path)
   )`,
];
const DDL_LOCK_KEY = 0x51c3_0001;

export async function ensureEngineSchema(pool: Pool, ddl: string[] = DDL): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
    for (const statement of ddl) await client.query(statement);
  });
}

export class PgBlobStore implements BlobStore {
  private constructor(
    private readonly pool: Pool,
    private readonly namespace: string,
    private readonly displayUrl: string,
  ) {}

  static async open(connectionString: string, namespace: string, warn?: PoolWarn): Promise<PgBlobStore> {
    const pool = createPool(connectionString, 'checkpoint', warn);
    try {
      await ensureEngineSchema(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    const url = new URL(connectionString);
    url.password = '';
    return new PgBlobStore(pool, namespace, `${url.protocol}//${url.host}${url.pathname}`);
  }

  describe(path: string): string {
    return `${this.displayUrl} sluice_engine.checkpoint_files[${this.namespace}:${path}]`;
  }

  async put(path: string, data: Buffer): Promise<void> {
    await this.pool.query(
      `INSERT INTO sluice_engine.checkpoint_files (namespace, path, data) VALUES ($1, $2, $3)
       ON CONFLICT (namespace, path) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`,
      [this.namespace, path, data],
    );
  }

  async putIfAbsent(path: string, data: Buffer): Promise<boolean> {
    const res = await this.pool.query(
      `INSERT INTO sluice_engine.checkpoint_files (namespace, path, data) VALUES ($1, $2, $3)
       ON CONFLICT (namespace, path) DO NOTHING`,
      [this.namespace, path, data],
    );
    return res.rowCount === 1;
  }

  async get(path: string): Promise<Buffer | undefined> {
    const res = await this.pool.query<{ data: Buffer }>(
      'SELECT data FROM sluice_engine.checkpoint_files WHERE namespace = $1 AND path = $2',
      [this.namespace, path],
    );
    return res.rows[0]?.data;
  }

  private async children(dir: string): Promise<string[]> {
    const prefix = dir === '' ? '' : `${dir}/`;
    const res = await this.pool.query<{ path: string }>(
      'SELECT path FROM sluice_engine.checkpoint_files WHERE namespace = $1 AND starts_with(path, $2)',
      [this.namespace, prefix],
    );
    return res.rows.map((r) => r.path.slice(prefix.length));
  }

  async list(dir: string): Promise<string[]> {
    return (await this.children(dir)).filter((rest) => !rest.includes('/'));
  }

  async listDirs(dir: string): Promise<string[]> {
    const dirs = new Set<string>();
    for (const rest of await this.children(dir)) {
      const slash = rest.indexOf('/');
      if (slash > 0) dirs.add(rest.slice(0, slash));
    }
    return [...dirs];
  }

  async delete(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    await this.pool.query(
      'DELETE FROM sluice_engine.checkpoint_files WHERE namespace = $1 AND path = ANY($2)',
      [this.namespace, paths],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
