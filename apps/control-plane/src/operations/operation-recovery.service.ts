// After a control-plane restart or a Redis outage, operations may be QUEUED/RUNNING in PostgreSQL
// with no BullMQ job behind them. This sweep (at boot and periodically) enqueues them again; the
// job id is the operation id, so a job that does exist is never duplicated.
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { clusterName } from '../leadership/cluster-name';
import { LeaderElection } from '../leadership/leader-election.service';
import { OperationQueueService } from './operation-queue.service';
import { OperationRepository } from './operation.repository';

@Injectable()
export class OperationRecovery implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OperationRecovery.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly operations: OperationRepository,
    private readonly queue: OperationQueueService,
    private readonly leadership: LeaderElection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), 5000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    // Only the leader runs operations, so only it brings lost ones back.
    if (!this.leadership.isLeader) return;
    try {
      // Only this cluster's: the other clusters' leaders bring back their own.
      for (const op of await this.operations.listActive(clusterName(this.config))) {
        if (await this.queue.isPending(op.id)) continue;
        await this.queue.removeFinished(op.id); // a finished job with this id would block re-adding
        if (await this.queue.enqueue(op.id))
          this.logger.log(`re-enqueued operation ${op.id} (${op.type}, ${op.state})`);
      }
    } catch (e) {
      this.logger.warn(`operation recovery sweep failed: ${(e as Error).message}`);
    }
  }
}
