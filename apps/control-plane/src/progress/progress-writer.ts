// Writes validated progress events to PostgreSQL on a small pool of its own (inside the ingest
// worker): the ingest path is the busiest writer in the control plane, and keeping it off the
// Prisma pool means API reads never queue behind a 1,000-row insert.
import { Pool } from 'pg';

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

/** One row of the JSON array sent to PostgreSQL; the payload text is spliced in unchanged. */
function rowJson(e: IngestableProgress): string {
  const columns = JSON.stringify({
    queryId: e.queryId,
    runId: e.runId,
    batchId: e.batchId,
    instance: e.instance,
    timestamp: e.timestamp.toISOString(),
    numInputRows: Math.round(e.numInputRows),
    inputRowsPerSecond: e.inputRowsPerSecond,
    processedRowsPerSecond: e.processedRowsPerSecond,
    batchDurationMs: e.batchDurationMs === null ? null : Math.round(e.batchDurationMs),
  });
  return `${columns.slice(0, -1)},"payload":${e.payloadJson}}`;
}

// One statement per chunk: rows travel as one `json` parameter (far cheaper than per-row
// parameters), rows of unknown queries drop out in the join, and the queries' lastProgressAt
// moves forward in the same round trip.
const INSERT_PROGRESS = `
WITH input AS (
  SELECT r.* FROM json_to_recordset($1::json) AS r("queryId" uuid, "runId" text, "batchId" bigint, "instance" text,
    "timestamp" timestamp(3), "numInputRows" bigint, "inputRowsPerSecond" float8, "processedRowsPerSecond" float8,
    "batchDurationMs" integer, "payload" json)
), stored AS (
  INSERT INTO "ProgressEvent" ("queryId", "runId", "batchId", "instance", "timestamp", "numInputRows",
    "inputRowsPerSecond", "processedRowsPerSecond", "batchDurationMs", "payload")
  SELECT i."queryId", i."runId", i."batchId", i."instance", i."timestamp", i."numInputRows",
    i."inputRowsPerSecond", i."processedRowsPerSecond", i."batchDurationMs", i."payload"
  FROM input i JOIN "Query" q ON q.id = i."queryId"
  RETURNING "queryId", "timestamp"
), latest AS (
  UPDATE "Query" q SET "lastProgressAt" = m.at
  FROM (SELECT "queryId", max("timestamp") AS at FROM stored GROUP BY "queryId") m
  WHERE q.id = m."queryId" AND (q."lastProgressAt" IS NULL OR q."lastProgressAt" < m.at)
  RETURNING q.id
)
SELECT "queryId" AS id, count(*)::int AS n FROM stored GROUP BY "queryId"`;

export interface InsertResult {
  /** Rows stored, per (lower-case) query id. */
  stored: Map<string, number>;
  /** Events PostgreSQL refused, with its reason. */
  rejected: Array<{ event: IngestableProgress; reason: string }>;
}

/** SQLSTATE class 22 (data exception): the statement's data, not the database, is at fault. */
function isDataException(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}

export class ProgressWriter {
  private readonly pool: Pool;

  /** `connections`: one per insert the caller keeps in flight. */
  constructor(databaseUrl: string, connections: number) {
    this.pool = new Pool({ connectionString: databaseUrl, max: connections, connectionTimeoutMillis: 3000, application_name: 'sluice-progress-ingest' });
    // An idle client that loses its connection emits 'error' on the pool; the next insert
    // reconnects, so this must not crash the process.
    this.pool.on('error', () => undefined);
  }

  /**
   * Inserts the events of existing queries: `stored` counts rows per query id. Events whose
   * query id is not a UUID are skipped (a foreign engine or a typo is an unknown query, not a
   * database error). If PostgreSQL refuses the chunk for its data (a \u0000 escape, a number out
   * of range), the rows are retried one by one and the refused ones come back in `rejected`, so
   * one poison event can neither stall ingest nor take valid neighbours down with it.
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

  private async insertRows(rows: IngestableProgress[]): Promise<Array<{ id: string; n: number }>> {
    return (await this.pool.query<{ id: string; n: number }>(INSERT_PROGRESS, [`[${rows.map(rowJson).join(',')}]`])).rows;
  }

  private count(result: InsertResult, rows: Array<{ id: string; n: number }>): void {
    for (const r of rows) result.stored.set(r.id, (result.stored.get(r.id) ?? 0) + r.n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
