import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ControlPublisher } from '../control/control-publisher.service';
import { ReconcileModule } from '../reconcile/reconcile.module';
import { OperationEvents } from './operation-events';
import { OperationProcessor } from './operation.processor';
import { OperationQueueService } from './operation-queue.service';
import { OperationRecovery } from './operation-recovery.service';
import { OperationRepository } from './operation.repository';
import { OperationRunner } from './operation-runner.service';
import { OperationsController } from './operations.controller';
import { OPERATIONS_QUEUE } from './operation-types';

@Module({
  imports: [BullModule.registerQueue({ name: OPERATIONS_QUEUE }), ReconcileModule],
  controllers: [OperationsController],
  providers: [
    OperationRepository,
    OperationQueueService,
    OperationRunner,
    OperationProcessor,
    OperationRecovery,
    OperationEvents,
    ControlPublisher,
  ],
  exports: [OperationRepository, OperationQueueService, OperationEvents, ControlPublisher, OperationRunner],
})
export class OperationsModule {}
