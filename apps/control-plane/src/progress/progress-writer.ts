// Writes validated progress events to PostgreSQL on a small pool of its own (inside the ingest
// worker): the ingest path is the busiest writer in the control plane, and keeping it off the
// Prisma pool means API reads never queue behind an ingest COPY.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface IngestableProgress {
  queryId: string;
  runId: string;
  batchId: number;
  instance: string | null;
  timestamp: Date;
  numInputRows: number;
  inputRowsPerSecond: number | null;
  processedRowsPerSecond: number | null;
  batchDurationMs: number | null;
  /** The event as received: JSON text that has already parsed and validated. */
  payloadJson: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string): boolean => UUID.test(id);

/** COPY text format: backslash, tab, newline and carriage return are escaped; `\N` is NULL. */
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const copyText = (s: string): string => s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!);
const copyValue = (v: string | number | null): string =>
  v === null ? '\\N' : typeof v === 'number' ? String(v) : copyText(v);

/** One COPY line; the payload text goes in unchanged (escaped for COPY, not re-serialised). */
function copyLine(e: IngestableProgress): string {
  return [
    e.queryId,
    e.runId,
    e.batchId,
    e.instance,
    e.timestamp.toISOString(),
    Math.round(e.numInputRows),
    e.inputRowsPerSecond,
    e.processedRowsPerSecond,
    e.batchDurationMs === null ? null : Math.round(e.batchDurationMs),
    e.payloadJson,
  ]
    .map(copyValue)
    .join('\t');
}

// COPY, not INSERT … json_to_recordset: PostgreSQL parses each payload once (the json column's
// own check) instead of twice, about 40 % less database CPU per event (BENCHMARKS.md).
const COPY_PROGRESS = `COPY "ProgressEvent" ("queryId", "runId", "batchId", "instance", "timestamp", "numInputRows",
  "inputRowsPerSecond", "processedRowsPerSecond", "batchDurationMs", "payload") FROM STDIN`;

// FOR KEY SHARE: a query cannot be deleted between this check and the commit (its foreign key
// would fail the whole COPY); the lock does not block status updates of the same rows.
// Only this cluster's queries (and those no cluster has adopted yet): every cluster's ingest reads
// every event of the topic, and another cluster stores its own queries' events.
const LOCK_KNOWN_QUERIES = `SELECT id FROM "Query" WHERE id = ANY($1::uuid[]) AND (cluster = $2 OR cluster IS NULL) FOR KEY SHARE`;

const ADVANCE_LAST_PROGRESS = `
UPDATE "Query" q SET "lastProgressAt" = m.at
FROM unnest($1::uuid[], $2::timestamp(3)[]) AS m(id, at)
WHERE q.id = m.id AND (q."lastProgressAt" IS NULL OR q."lastProgressAt" < m.at)`;

export interface InsertResult {
  /** Rows stored, per (lower-case) query id. */
  stored: Map<string, number>;
  /** Events PostgreSQL refused, with its reason. */
  rejected: Array<{ event: IngestableProgress; reason: string }>;
}

/** SQLSTATE 40P01: PostgreSQL rolled the transaction back to break a deadlock; a retry is safe. */
const isDeadlock = (e: unknown): boolean => (e as { code?: unknown }).code === '40P01';

/** SQLSTATE class 22 (data exception): the statement's data, not the database, is at fault. */
function isDataException(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}

export class ProgressWriter {
  private readonly pool: Pool;

  /** `connections`: one per insert the caller keeps in flight; `cluster`: whose queries' events it stores. */
  constructor(
    databaseUrl: string,
    connections: number,
    private readonly cluster: string,
  ) {
    this.pool = new Pool({
      connectionString: databaseUrl,
      max: connections,
      connectionTimeoutMillis: 3000,
      application_name: 'sluice-progress-ingest',
    });
    // An idle client that loses its connection emits 'error' on the pool; the next insert
    // reconnects, so this must not crash the process.
    this.pool.on('error', () => undefined);
  }

  /**
   * Inserts the events of existing queries: `stored` counts rows per query id. Events whose
   * query id is not a UUID are skipped (a foreign engine or a typo is an unknown query, not a
   * database error). If PostgreSQL refuses the chunk for its data (a NUL character in a text
   * field, a number out of range), the rows are retried one by one and the refused ones come
   * back in `rejected`, so one poison event can neither stall ingest nor take valid neighbours
   * down with it.
   */
  async insert(events: IngestableProgress[]): Promise<InsertResult> {
    const rows = events.filter((e) => isUuid(e.queryId));
    const result: InsertResult = { stored: new Map(), rejected: [] };
    if (rows.length === 0) return result;
    try {
      this.count(result, await this.insertRows(rows));
    } catch (e) {
      if (!isDataException(e) || rows.length === 1) throw e;
      for (const row of rows) {
        try {
          this.count(result, await this.insertRows([row]));
        } catch (e1) {
          if (!isDataException(e1)) throw e1;
          result.rejected.push({ event: row, reason: (e1 as Error).message });
        }
      }
    }
    return result;
  }

  /**
   * Two chunks in flight can deadlock on lastProgressAt only when one query's events arrive on two
   * partitions (a producer that does not key by query id); PostgreSQL then aborts one, which is
   * retried.
   */
  private async insertRows(rows: IngestableProgress[]): Promise<Map<string, number>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.insertOnce(rows);
      } catch (e) {
        if (!isDeadlock(e) || attempt >= 3) throw e;
      }
    }
  }

  /** One transaction: lock the known queries, COPY their rows, advance their lastProgressAt. */
  private async insertOnce(rows: IngestableProgress[]): Promise<Map<string, number>> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const ids = [...new Set(rows.map((r) => r.queryId.toLowerCase()))].sort();
        const known = new Set(
          (await client.query<{ id: string }>(LOCK_KNOWN_QUERIES, [ids, this.cluster])).rows.map((r) => r.id),
        );
        const kept = rows.filter((r) => known.has(r.queryId.toLowerCase()));
        const counts = new Map<string, number>();
        const latest = new Map<string, Date>();
        for (const r of kept) {
          const id = r.queryId.toLowerCase();
          counts.set(id, (counts.get(id) ?? 0) + 1);
          if ((latest.get(id)?.getTime() ?? -Infinity) < r.timestamp.getTime()) latest.set(id, r.timestamp);
        }
        if (kept.length > 0) {
          await pipeline(
            Readable.from([`${kept.map(copyLine).join('\n')}\n`]),
            client.query(copyFrom(COPY_PROGRESS)),
          );
          const advanced = ids.filter((id) => latest.has(id)); // in id order, as locked
          await client.query(ADVANCE_LAST_PROGRESS, [
            advanced,
            advanced.map((id) => latest.get(id)!.toISOString()),
          ]);
        }
        await client.query('COMMIT');
        return counts;
      } catch (e) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw e;
      }
    } finally {
      // A connection that could not roll back is discarded rather than returned to the pool.
      client.release(broken);
    }
  }

  private count(result: InsertResult, counts: Map<string, number>): void {
    for (const [id, n] of counts) result.stored.set(id, (result.stored.get(id) ?? 0) + n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
