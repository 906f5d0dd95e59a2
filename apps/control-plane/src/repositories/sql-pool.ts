// Statements through `pg` directly, on a pool of their own beside the one the Prisma client's driver
// adapter uses (prisma.repository.ts says why). Prisma's raw path does synchronous work on the API's event
// loop for every statement (it serialises each parameter, types each column and maps every row
// through its own format); for a 300 kB JSON parameter that was 4–9 ms of CPU against ~1 ms for
// `pg` itself, and Prisma's client runtime was the largest item the alert evaluation added to the
// main thread (39 ms a tick; BENCHMARKS.md, "Alert evaluation"). The per-tick statements of the
// alert evaluator, the notification router and the delivery worker run here; parameterised only.
import { Pool, types as pgTypes, type CustomTypesConfig } from 'pg';

/** One parameterised statement ($1, $2 … bound to `values`). */
export interface SqlStatement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** OID of `timestamp` (without time zone): Prisma's DateTime columns. */
const TIMESTAMP_OID = 1114;

/**
 * Prisma stores DateTime as UTC in `timestamp` columns; `pg` would read them in the process's local
 * time zone. Read as UTC, so a row read here has the same Date as the one Prisma returns.
 */
const utcTimestamp = (text: string): Date => new Date(`${text.replace(' ', 'T')}Z`);

/**
 * Pool-wide type parsers (a client's default). Prisma's adapter passes its own parsers with every
 * query, so this changes nothing of what Prisma reads.
 */
const UTC_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP_OID && format !== 'binary'
      ? utcTimestamp
      : pgTypes.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** A PostgreSQL pool of this process (prisma.repository.ts makes two: Prisma's and `sql`'s). */
export function newPool(databaseUrl: string): Pool {
  const pool = new Pool({ connectionString: databaseUrl, connectionTimeoutMillis: 3000, types: UTC_TYPES });
  // An idle connection the server ends (a restart, pg_terminate_backend, idle_session_timeout)
  // emits 'error' on the pool, and an 'error' nobody listens for is thrown: the whole control plane
  // would exit. Prisma's driver adapter listens on its pool only between its connect and its
  // disconnect, and never on `sql`'s. The pool has already dropped the connection; the
  // next statement opens another, and a statement that fails says so to its caller.
  pool.on('error', () => undefined);
  return pool;
}

export class SqlPool {
  constructor(private readonly pool: Pool) {}

  /** The rows of one statement, as `pg` decodes them (json/jsonb parsed, timestamps UTC Dates). */
  async rows<T>(text: string, values: readonly unknown[] = []): Promise<T[]> {
    return (await this.pool.query(text, values as unknown[])).rows as T[];
  }

  /** Runs one statement; the number of rows it affected. */
  async execute(text: string, values: readonly unknown[] = []): Promise<number> {
    return (await this.pool.query(text, values as unknown[])).rowCount ?? 0;
  }

  /** The statements in order in one transaction: all of them or none. */
  async transaction(statements: readonly SqlStatement[]): Promise<void> {
    if (statements.length === 0) return;
    // One statement is atomic on its own: no BEGIN and COMMIT round trips (each is a socket write
    // on the API's event loop, and on a loaded box those writes showed in its profile).
    if (statements.length === 1) {
      await this.pool.query(statements[0]!.text, statements[0]!.values as unknown[]);
      return;
    }
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      try {
        await client.query('BEGIN');
        for (const s of statements) await client.query(s.text, s.values as unknown[]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw e;
      }
    } finally {
      // A connection that could not roll back is discarded rather than returned to the pool.
      client.release(broken);
    }
  }
}
