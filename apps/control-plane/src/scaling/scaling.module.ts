// The live scaling loop and its API. QueriesService and LagService are provided here as well
// (their module does not export them); both keep no state that must be shared.
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ControlPublisher } from '../control/control-publisher.service';
import { LagService } from '../lag/lag.service';
import { OperationsModule } from '../operations/operations.module';
import { QueriesService } from '../queries/queries.service';
import { ReconcileModule } from '../reconcile/reconcile.module';
import { ScalingController } from './scaling.controller';
import { ScalingLoopService } from './scaling-loop.service';
import { ScalingMetrics } from './scaling-metrics';
import { ScalingSettingsService } from './scaling-settings.service';

@Module({
  imports: [AuditModule, OperationsModule, ReconcileModule],
  controllers: [ScalingController],
  providers: [ScalingLoopService, ScalingSettingsService, ScalingMetrics, QueriesService, LagService, ControlPublisher],
  exports: [ScalingLoopService],
})
export class ScalingModule {}
