// Stored engine progress, read as the scaling loop needs it.
import { Injectable } from '@nestjs/common';
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

  /** The query's events since `since`, oldest first, what an acknowledgement check reads. */
  eventsSince(queryId: string, since: Date, limit = 5_000): Promise<ProgressEventRow[]> {
    return this.prisma.progressEvent.findMany({
      where: { queryId, timestamp: { gte: since } },
      orderBy: { timestamp: 'asc' },
      take: limit,
      select: { instance: true, timestamp: true, payload: true },
    });
  }
}
