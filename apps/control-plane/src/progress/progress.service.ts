// Serves stored progress events back (ingest stores them: see ProgressIngestService). Retention
// is bounded per query (SLUICE_PROGRESS_RETENTION rows), trimmed off the ingest path.
import { Inject, Injectable } from '@nestjs/common';
import type { ProgressEvent } from '../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { PrismaRepository } from '../repositories/prisma.repository';

@Injectable()
export class ProgressService {
  constructor(
    private readonly prisma: PrismaRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async trim(queryId: string): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM "ProgressEvent" WHERE "queryId" = ${queryId}::uuid AND id < (
        SELECT id FROM "ProgressEvent" WHERE "queryId" = ${queryId}::uuid
        ORDER BY id DESC OFFSET ${this.config.SLUICE_PROGRESS_RETENTION} LIMIT 1)`;
  }

  latest(queryId: string): Promise<ProgressEvent | null> {
    // Ordered by the indexed (queryId, timestamp) pair: ordering by id alone scans every row of
    // the query, which made GET /queries/:id slow under ingest.
    return this.prisma.progressEvent.findFirst({
      where: { queryId },
      orderBy: [{ timestamp: 'desc' }, { id: 'desc' }],
    });
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
