import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { LagModule } from '../lag/lag.module';
import { OperationsModule } from '../operations/operations.module';
import { ProgressModule } from '../progress/progress.module';
import { ReconcileModule } from '../reconcile/reconcile.module';
import { SinkConnectionsModule } from '../sinks/sink-connections.module';
import { LiveFiguresController } from './live-figures.controller';
import { QueriesController } from './queries.controller';
import { QueriesService } from './queries.service';
import { QueryStreamsController } from './query-streams.controller';

@Module({
  imports: [AuditModule, LagModule, OperationsModule, ReconcileModule, ProgressModule, SinkConnectionsModule],
  controllers: [QueriesController, QueryStreamsController, LiveFiguresController],
  providers: [QueriesService],
  exports: [QueriesService],
})
export class QueriesModule {}
