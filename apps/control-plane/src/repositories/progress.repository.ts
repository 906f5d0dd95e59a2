// Stored engine progress, read as the scaling loop and the reconciler need it.
import { Injectable } from '@nestjs/common';
import type { ProgressEvent } from '../generated/prisma/client';
import { PrismaRepository } from './prisma.repository';

/** One stored micro-batch, the fields a capacity estimate uses. */
export interface ProgressBatchRow {
  timestamp: Date;
  instance: string | null;
  runId: string;
  numInputRows: bigint | number;
  batchDurationMs: number | null;
  payload: unknown;
}

/** One stored event as it was reported: who, when, and the engine's payload. */
export interface ProgressEventRow {
  instance: string | null;
  timestamp: Date;
  payload: unknown;
}

@Injectable()
export class ProgressRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** The query's batches since `since`, oldest first; at most the newest `limit` of them. */
  async batchesSince(queryId: string, since: Date, limit: number): Promise<ProgressBatchRow[]> {
    const rows = await this.prisma.progressEvent.findMany({
      where: { queryId, timestamp: { gte: since } },
      orderBy: { timestamp: 'desc' },
      take: limit,
      select: {
        timestamp: true,
        instance: true,
        runId: true,
        numInputRows: true,
        batchDurationMs: true,
        payload: true,
      },
    });
    return rows.reverse();
  }

  /**
   * The sink error (`sluice.sinkError`) of each instance's newest event since `since`; null for an
   * instance whose newest event has none (its batches commit). Instances silent since then are
   * absent. Read inside the json in PostgreSQL, so payloads are not shipped.
   */
  async latestSinkErrors(
    queryId: string,
    since: Date,
  ): Promise<Array<{ instance: string | null; sinkError: string | null }>> {
    return this.prisma.$queryRaw<Array<{ instance: string | null; sinkError: string | null }>>`
      SELECT DISTINCT ON (instance) instance, payload -> 'sluice' ->> 'sinkError' AS "sinkError"
      FROM "ProgressEvent"
      WHERE "queryId" = ${queryId}::uuid AND "timestamp" >= ${since}
      ORDER BY instance, "timestamp" DESC`;
  }

  /** The query's events since `since`, oldest first, what an acknowledgement check reads. */
  eventsSince(queryId: string, since: Date, limit = 5_000): Promise<ProgressEventRow[]> {
    return this.prisma.progressEvent.findMany({
      where: { queryId, timestamp: { gte: since } },
      orderBy: { timestamp: 'asc' },
      take: limit,
      select: { instance: true, timestamp: true, payload: true },
    });
  }

  /** The query's newest event, or null. */
  latest(queryId: string): Promise<ProgressEvent | null> {
    // Ordered by the indexed (queryId, timestamp) pair: ordering by id alone scans every row of
    // the query, which made GET /queries/:id slow under ingest.
    return this.prisma.progressEvent.findFirst({
      where: { queryId },
      orderBy: [{ timestamp: 'desc' }, { id: 'desc' }],
    });
  }

  /** Payloads after `since` oldest first, or without `since` the newest first; at most `limit`. */
  async payloads(queryId: string, since: Date | undefined, limit: number): Promise<unknown[]> {
    const rows = await this.prisma.progressEvent.findMany({
      where: { queryId, ...(since ? { timestamp: { gt: since } } : {}) },
      orderBy: { timestamp: since ? 'asc' : 'desc' },
      take: limit,
      select: { payload: true },
    });
    return rows.map((r) => r.payload);
  }

  /**
   * Deletes at most `max` of the query's events older than its newest `keep` (newest by event
   * time, the order every reader uses); how many went. Bounded so that one pass over a query with
   * a large backlog (retention lowered, the first pass after an upgrade) is a bounded statement: the
   * next pass deletes the rest.
   */
  trimToNewest(queryId: string, keep: number, max: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM "ProgressEvent" WHERE id IN (
        SELECT id FROM "ProgressEvent" WHERE "queryId" = ${queryId}::uuid
        ORDER BY "timestamp" DESC, id DESC OFFSET ${keep} LIMIT ${max})`;
  }
}
