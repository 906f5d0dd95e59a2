// The live scaling loop and its API. QueriesService (stateless) and a lag reader are provided here
// as well: QueriesModule does not export them.
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ControlPublisher } from '../control/control-publisher.service';
import { OperationsModule } from '../operations/operations.module';
import { QueriesService } from '../queries/queries.service';
import { ReconcileModule } from '../reconcile/reconcile.module';
import { ScalingController } from './scaling.controller';
import { ScalingLagReader } from './scaling-lag';
import { ScalingLoopService } from './scaling-loop.service';
import { ScalingMetrics } from './scaling-metrics';
import { ScalingSettingsService } from './scaling-settings.service';

@Module({
  imports: [AuditModule, OperationsModule, ReconcileModule],
  controllers: [ScalingController],
  providers: [ScalingLoopService, ScalingSettingsService, ScalingMetrics, QueriesService, ScalingLagReader, ControlPublisher],
  exports: [ScalingLoopService],
})
export class ScalingModule {}
