// Stores validated progress events in batches and serves them back. Retention is bounded per
// query (SLUICE_PROGRESS_RETENTION rows), trimmed off the ingest path.
import { Inject, Injectable } from '@nestjs/common';
import type { ProgressEvent } from '../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { PrismaRepository } from '../repositories/prisma.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string): boolean => UUID.test(id);

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
  payload: unknown;
}

@Injectable()
export class ProgressService {
  constructor(
    private readonly prisma: PrismaRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Inserts events for known queries; returns how many were stored. */
  async store(events: IngestableProgress[]): Promise<number> {
    if (events.length === 0) return 0;
    // Only UUIDs can name a query here; anything else (a foreign engine, a typo) is an unknown
    // query, not a database error that would stall ingestion on a poison message.
    const ids = [...new Set(events.map((e) => e.queryId))].filter((id) => UUID.test(id));
    if (ids.length === 0) return 0;
    const known = new Set((await this.prisma.query.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((q) => q.id));
    const rows = events.filter((e) => known.has(e.queryId));
    if (rows.length === 0) return 0;
    // One statement per batch: rows travel as a single JSON parameter (jsonb_to_recordset), which
    // is far cheaper than per-row parameters at thousands of events per second.
    await this.prisma.$executeRawUnsafe(
      `INSERT INTO "ProgressEvent" ("queryId", "runId", "batchId", "instance", "timestamp", "numInputRows",
         "inputRowsPerSecond", "processedRowsPerSecond", "batchDurationMs", "payload")
       SELECT r."queryId"::uuid, r."runId", r."batchId", r."instance", r."timestamp", r."numInputRows",
         r."inputRowsPerSecond", r."processedRowsPerSecond", r."batchDurationMs", r."payload"
       FROM jsonb_to_recordset($1::jsonb) AS r("queryId" text, "runId" text, "batchId" bigint, "instance" text,
         "timestamp" timestamp(3), "numInputRows" bigint, "inputRowsPerSecond" float8, "processedRowsPerSecond" float8,
         "batchDurationMs" integer, "payload" jsonb)`,
      JSON.stringify(
        rows.map((e) => ({
          queryId: e.queryId,
          runId: e.runId,
          batchId: e.batchId,
          instance: e.instance,
          timestamp: e.timestamp.toISOString(),
          numInputRows: Math.round(e.numInputRows),
          inputRowsPerSecond: e.inputRowsPerSecond,
          processedRowsPerSecond: e.processedRowsPerSecond,
          batchDurationMs: e.batchDurationMs === null ? null : Math.round(e.batchDurationMs),
          payload: e.payload,
        })),
      ),
    );
    const latest = new Map<string, Date>();
    for (const e of rows) if ((latest.get(e.queryId)?.getTime() ?? 0) < e.timestamp.getTime()) latest.set(e.queryId, e.timestamp);
    await this.prisma.$executeRawUnsafe(
      `UPDATE "Query" q SET "lastProgressAt" = v.at
       FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, at timestamp(3))
       WHERE q.id = v.id AND (q."lastProgressAt" IS NULL OR q."lastProgressAt" < v.at)`,
      JSON.stringify([...latest].map(([id, at]) => ({ id, at: at.toISOString() }))),
    );
    return rows.length;
  }

  async trim(queryId: string): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM "ProgressEvent" WHERE "queryId" = ${queryId}::uuid AND id < (
        SELECT id FROM "ProgressEvent" WHERE "queryId" = ${queryId}::uuid
        ORDER BY id DESC OFFSET ${this.config.SLUICE_PROGRESS_RETENTION} LIMIT 1)`;
  }

  latest(queryId: string): Promise<ProgressEvent | null> {
    // Ordered by the indexed (queryId, timestamp) pair: ordering by id alone scans every row of
    // the query, which made GET /queries/:id slow under ingest.
    return this.prisma.progressEvent.findFirst({ where: { queryId }, orderBy: [{ timestamp: 'desc' }, { id: 'desc' }] });
  }

  async list(queryId: string, since: Date | undefined, limit: number) {
    const rows = await this.prisma.progressEvent.findMany({
      where: { queryId, ...(since ? { timestamp: { gt: since } } : {}) },
      orderBy: { timestamp: since ? 'asc' : 'desc' },
      take: limit,
    });
    return rows.map((r) => r.payload);
  }
}
