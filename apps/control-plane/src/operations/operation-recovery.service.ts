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
import { LeaderTick } from '../leadership/leader-tick';
import { OperationQueueService } from './operation-queue.service';
import { OperationRepository } from './operation.repository';

/** How often the leader looks for operations with no job behind them. */
const SWEEP_INTERVAL_MS = 5000;

@Injectable()
export class OperationRecovery implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OperationRecovery.name);
  /** Only the leader runs operations, so only it brings lost ones back. */
  private readonly ticker: LeaderTick;

  constructor(
    private readonly operations: OperationRepository,
    private readonly queue: OperationQueueService,
    leadership: LeaderElection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.ticker = new LeaderTick({
      name: 'operation recovery sweep',
      everyMs: SWEEP_INTERVAL_MS,
      leadership,
      work: () => this.sweep(),
      warn: (m) => this.logger.warn(m),
    });
  }

  onApplicationBootstrap(): void {
    // At boot too, not an interval later: a restarted leader resumes its operations at once.
    void this.ticker.runOnce();
    this.ticker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.ticker.stop();
  }

  /** One sweep (LeaderTick runs it on the leader only and logs a failure at warn). */
  async sweep(): Promise<void> {
    // Only this cluster's: the other clusters' leaders bring back their own.
    for (const op of await this.operations.listActive(clusterName(this.config))) {
      if (await this.queue.isPending(op.id)) continue;
      await this.queue.removeFinished(op.id); // a finished job with this id would block re-adding
      if (await this.queue.enqueue(op.id))
        this.logger.log(`re-enqueued operation ${op.id} (${op.type}, ${op.state})`);
    }
  }
}
