// Every query's newest figures in one statement, for a page that shows hundreds of queries live
// (GET /api/v1/live/queries). Asking per query (detail, progress, lag: three requests each) made
// the dashboard refresh a row of 500 only every ~12 s.
import { Injectable } from '@nestjs/common';
import { PrismaRepository } from './prisma.repository';

/** One stored progress event, the fields a rate needs. */
export interface RateEvent {
  instance: string | null;
  /** Event time, epoch milliseconds. */
  atMs: number;
  input: number | null;
  processed: number | null;
}

export interface LiveFiguresRow {
  id: string;
  runningInstances: number;
  firingAlerts: number;
  /** The newest events of the query, newest first (at most 3 per desired instance, 4..100). */
  events: RateEvent[];
}

@Injectable()
export class LiveFiguresRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /**
   * Queries of `cluster` not deleted, by id after `after`, at most `limit`. Each query's events come
   * from the (queryId, timestamp) index, newest first and bounded, so the cost grows with the
   * number of queries, not with how much progress is stored.
   */
  page(cluster: string, after: string | null, limit: number): Promise<LiveFiguresRow[]> {
    return this.prisma.$queryRaw<LiveFiguresRow[]>`
      SELECT q.id,
        (SELECT count(*)::int FROM "Instance" i
          WHERE i."queryId" = q.id AND i.status = 'RUNNING') AS "runningInstances",
        (SELECT count(*)::int FROM "Alert" a
          WHERE a."queryId" = q.id AND a.state = 'firing') AS "firingAlerts",
        COALESCE((SELECT json_agg(json_build_object(
            'instance', e.instance,
            'atMs', round(extract(epoch FROM e.timestamp) * 1000)::float8,
            'input', e."inputRowsPerSecond",
            'processed', e."processedRowsPerSecond"))
          FROM (SELECT instance, timestamp, "inputRowsPerSecond", "processedRowsPerSecond"
                FROM "ProgressEvent" p WHERE p."queryId" = q.id
                ORDER BY p.timestamp DESC
                LIMIT LEAST(100, GREATEST(4, q."desiredInstances" * 3))) e), '[]'::json) AS events
      FROM "Query" q
      WHERE q."deletedAt" IS NULL AND q.cluster = ${cluster}
        AND (${after}::uuid IS NULL OR q.id > ${after}::uuid)
      ORDER BY q.id
      LIMIT ${limit}`;
  }
}
