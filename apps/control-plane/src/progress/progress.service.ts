// Serves stored progress events back (ingest stores them: see ProgressIngestService). Retention
// is bounded per query (SLUICE_PROGRESS_RETENTION rows), trimmed off the ingest path by the
// leader (progress-retention.service.ts).
import { Injectable } from '@nestjs/common';
import type { ProgressEvent } from '../generated/prisma/client';
import { ProgressRepository } from '../repositories/progress.repository';

@Injectable()
export class ProgressService {
  constructor(private readonly progress: ProgressRepository) {}

  latest(queryId: string): Promise<ProgressEvent | null> {
    return this.progress.latest(queryId);
  }

  async list(queryId: string, since: Date | undefined, limit: number): Promise<unknown[]> {
    return this.progress.payloads(queryId, since, limit);
  }
}
