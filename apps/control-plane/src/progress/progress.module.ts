import { Module } from '@nestjs/common';
import { ProgressEvents } from './progress-events';
import { ProgressIngestService } from './progress-ingest.service';
import { ProgressService } from './progress.service';

@Module({
  providers: [ProgressService, ProgressIngestService, ProgressEvents],
  exports: [ProgressService, ProgressEvents],
})
export class ProgressModule {}
