import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { LagModule } from '../lag/lag.module';
import { OperationsModule } from '../operations/operations.module';
import { ReconcileModule } from '../reconcile/reconcile.module';
import { UpgradeExecutor } from './upgrade-executor';
import { UpgradesController } from './upgrades.controller';
import { UpgradesService } from './upgrades.service';

/** POST /queries/:id/upgrade and /rollback, and the executor of those operations (registered with OperationRunner). */
@Module({
  imports: [AuditModule, OperationsModule, ReconcileModule, LagModule],
  controllers: [UpgradesController],
  providers: [UpgradesService, UpgradeExecutor],
})
export class UpgradesModule {}
