import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { OperationsModule } from '../operations/operations.module';
import { ReconcileModule } from '../reconcile/reconcile.module';
import { UpgradesController } from './upgrades.controller';
import { UpgradesService } from './upgrades.service';

/** POST /queries/:id/upgrade and /rollback; the operations themselves run in OperationsModule (UpgradeExecutor). */
@Module({
  imports: [AuditModule, OperationsModule, ReconcileModule],
  controllers: [UpgradesController],
  providers: [UpgradesService],
})
export class UpgradesModule {}
