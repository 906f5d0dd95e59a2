import { Module } from '@nestjs/common';
import { ProgressEvents } from './progress-events';
import { ProgressIngestService } from './progress-ingest.service';
import { ProgressRetention } from './progress-retention.service';
import { ProgressService } from './progress.service';

@Module({
  providers: [ProgressService, ProgressIngestService, ProgressEvents, ProgressRetention],
  exports: [ProgressService, ProgressEvents],
})
export class ProgressModule {}
