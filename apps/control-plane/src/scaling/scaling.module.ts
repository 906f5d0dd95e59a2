// The live scaling loop and its API. Scale changes go through QueriesService (the ordinary scale
// operation), lag comes from LagModule, rate limits from OperationsModule's publisher.
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { LagModule } from '../lag/lag.module';
import { OperationsModule } from '../operations/operations.module';
import { QueriesModule } from '../queries/queries.module';
import { ReconcileModule } from '../reconcile/reconcile.module';
import { ScalingController } from './scaling.controller';
import { ScalingLoopService } from './scaling-loop.service';
import { ScalingMetrics } from './scaling-metrics';
import { ScalingPolicies } from './scaling-policies';
import { ScalingSettingsService } from './scaling-settings.service';

@Module({
  imports: [AuditModule, LagModule, OperationsModule, ReconcileModule, QueriesModule],
  controllers: [ScalingController],
  providers: [ScalingLoopService, ScalingSettingsService, ScalingMetrics, ScalingPolicies],
  exports: [ScalingLoopService],
})
export class ScalingModule {}
