// The static side of a stream–static join: the PostgreSQL table read whole, indexed by its join
// keys and re-read once it is older than its refresh interval (checked at the start of every
// trigger, so a batch joins with one copy throughout). As in Spark, where the static side is
// re-read each batch, a stream row joins with the table as it was when its batch ran.
//
// Bounded: a read refuses a table over maxRows or maxBytes (spec `tables`, libs limits) with an
// error naming the cap, before loading it. A refresh that fails keeps the last good copy and is
// reported in progress (`sluice.staticTables[].error`) until a refresh succeeds; only the first
// load, which has no copy to fall back on, fails the trigger (retried like any failed trigger).
import type { Pool } from 'pg';
import type { Row, StaticJoin, StaticTableIndex, TableSpec } from '@sluice/query-plan';
import { quoteIdent, quoteTable } from '../sinks/postgres-table';

/** Reads a table's rows (column → value as JSON-ish: numbers, strings, booleans, epoch ms). */
export type StaticTableReader = (name: string, spec: TableSpec) => Promise<Row[]>;

/** What progress reports of a cached table. */
export interface StaticTableStatus {
  table: string;
  rows: number;
  loadedAt: string | null;
  /** The last refresh's failure while an older copy is in use (bounded). */
  error?: string;
}

const MAX_ERROR = 300;

export class StaticTableCache {
  private current: StaticTableIndex | undefined;
  private loadedAtMs: number | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly name: string,
    private readonly spec: TableSpec,
    private readonly join: StaticJoin,
    private readonly read: StaticTableReader,
    private readonly log: (msg: string) => void,
  ) {}

  /** Loads the table if it never was or its copy is older than the refresh interval. */
  async ensureFresh(nowMs: number): Promise<void> {
    if (this.current && this.loadedAtMs !== undefined && nowMs - this.loadedAtMs < this.spec.refreshMs)
      return;
    try {
      const index = this.join.index(await this.read(this.name, this.spec));
      this.current = index;
      this.loadedAtMs = nowMs;
      if (this.lastError !== undefined) this.log(`table "${this.name}" refreshed again (${index.rows} rows)`);
      this.lastError = undefined;
    } catch (err) {
      const message = `table "${this.name}" (${this.spec.table}): ${(err as Error).message}`.slice(
        0,
        MAX_ERROR,
      );
      if (!this.current) throw new Error(message, { cause: err });
      // Keep joining with the last good copy; try again at the next trigger after the interval.
      this.loadedAtMs = nowMs;
      if (this.lastError === undefined) this.log(`${message}; still joining with the copy read before`);
      this.lastError = message;
    }
  }

  get index(): StaticTableIndex {
    if (!this.current) throw new Error(`table "${this.name}" is not loaded yet`);
    return this.current;
  }

  status(): StaticTableStatus {
    return {
      table: this.name,
      rows: this.current?.rows ?? 0,
      loadedAt:
        this.loadedAtMs !== undefined && this.current ? new Date(this.loadedAtMs).toISOString() : null,
      ...(this.lastError !== undefined ? { error: this.lastError } : {}),
    };
  }
}

/**
 * Reads a table from PostgreSQL, refusing it before the load when it is over a cap. The caps are
 * checked on what a `LIMIT maxRows + 1` read would return (pg_column_size of each row: the
 * stored size, close to what the cache holds), then again on what was loaded.
 */
export function postgresTableReader(poolFor: (connection: string) => Pool): StaticTableReader {
  return async (name, spec) => {
    const pool = poolFor(spec.connection);
    const columns = Object.entries(spec.schema);
    const select = `SELECT ${columns
      .map(([c, type]) => selectColumn(c, type))
      .join(', ')} FROM ${quoteTable(spec.table)} LIMIT ${spec.maxRows + 1}`;
    const size = await pool.query<{ n: string; bytes: string }>(
      `SELECT count(*) AS n, coalesce(sum(pg_column_size(t.*)), 0) AS bytes FROM (${select}) t`,
    );
    const n = Number(size.rows[0]?.n ?? 0);
    const bytes = Number(size.rows[0]?.bytes ?? 0);
    if (n > spec.maxRows)
      throw new Error(
        `more than maxRows ${spec.maxRows} rows; raise tables.${name}.maxRows or join a smaller table`,
      );
    if (bytes > spec.maxBytes)
      throw new Error(
        `${bytes} bytes, more than maxBytes ${spec.maxBytes}; raise tables.${name}.maxBytes or select fewer columns`,
      );
    const result = await pool.query<Row>({ text: select });
    if (result.rows.length > spec.maxRows)
      throw new Error(`more than maxRows ${spec.maxRows} rows (it grew while being read)`);
    return result.rows;
  };
}

/**
 * A column read as the JSON value the join's coercion expects: timestamps as epoch milliseconds
 * and 64-bit integers as text turned into numbers by PostgreSQL itself (float8 is exact up to
 * 2^53, and the coercion refuses anything beyond a safe integer).
 */
function selectColumn(column: string, type: string): string {
  const c = quoteIdent(column);
  if (type === 'timestamp') return `(extract(epoch from ${c}) * 1000)::float8 AS ${c}`;
  if (type === 'long' || type === 'int' || type === 'double') return `${c}::float8 AS ${c}`;
  if (type === 'string') return `${c}::text AS ${c}`;
  return c;
}

/**
 * The cache of a plan's stream–static join, reading through PostgreSQL pools opened on first use
 * (one per connection name). `urls` maps a connection name to its URL: the control plane's
 * resolved connections (SLUICE_TABLE_POSTGRES_URLS), plus the sink's under its connection name.
 */
export function postgresStaticTable(args: {
  name: string;
  spec: TableSpec;
  join: StaticJoin;
  urls: ReadonlyMap<string, string>;
  createPool: (url: string) => Pool;
  log: (msg: string) => void;
}): { cache: StaticTableCache; close(): Promise<void> } {
  const pools = new Map<string, Pool>();
  const poolFor = (connection: string): Pool => {
    let pool = pools.get(connection);
    if (!pool) {
      const url = args.urls.get(connection);
      if (!url)
        throw new Error(
          `no URL for connection "${connection}": the engine needs it in SLUICE_TABLE_POSTGRES_URLS (or as the sink's connection)`,
        );
      pool = args.createPool(url);
      pools.set(connection, pool);
    }
    return pool;
  };
  return {
    cache: new StaticTableCache(args.name, args.spec, args.join, postgresTableReader(poolFor), args.log),
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.end()));
    },
  };
}

/**
 * SLUICE_TABLE_POSTGRES_URLS: a JSON object of connection name → PostgreSQL URL. Bounded and
 * checked: a malformed value is an error naming the variable, not a crash at the first read.
 */
export function parseTableUrls(text: string | undefined): Map<string, string> {
  const urls = new Map<string, string>();
  if (text === undefined || text === '') return urls;
  if (text.length > 64 * 1024) throw new Error('SLUICE_TABLE_POSTGRES_URLS is longer than 64 KiB');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('SLUICE_TABLE_POSTGRES_URLS must be a JSON object of connection name → URL');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('SLUICE_TABLE_POSTGRES_URLS must be a JSON object of connection name → URL');
  for (const [name, url] of Object.entries(parsed)) {
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url))
      throw new Error(`SLUICE_TABLE_POSTGRES_URLS["${name}"] must be a postgres:// URL`);
    urls.set(name, url);
  }
  return urls;
}
