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
}
