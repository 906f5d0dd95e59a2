// Serves stored progress events back (ingest stores them: see ProgressIngestService). Retention
// is bounded per query (SLUICE_PROGRESS_RETENTION rows), trimmed off the ingest path.
import { Inject, Injectable } from '@nestjs/common';
import type { ProgressEvent } from '../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ProgressRepository } from '../repositories/progress.repository';

@Injectable()
export class ProgressService {
  constructor(
    private readonly progress: ProgressRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async trim(queryId: string): Promise<number> {
    return this.progress.trimToNewest(queryId, this.config.SLUICE_PROGRESS_RETENTION);
  }

  latest(queryId: string): Promise<ProgressEvent | null> {
    return this.progress.latest(queryId);
  }

  async list(queryId: string, since: Date | undefined, limit: number): Promise<unknown[]> {
    return this.progress.payloads(queryId, since, limit);
  }
}
