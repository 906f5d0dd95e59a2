import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { LeaderElection } from '../leadership/leader-election.service';
import type { Job } from 'bullmq';
import { OperationRunner } from './operation-runner.service';
import type { OperationJob } from './operation-queue.service';
import { OPERATIONS_QUEUE } from './operation-types';
import { throttledErrorLog } from '../logging/throttled-error-log';

// autorun off: the worker takes jobs only while this replica leads (operations act on the runtime,
// which only the leader may touch); it pauses when leadership moves away.
@Processor(OPERATIONS_QUEUE, { concurrency: 4, lockDuration: 30_000, autorun: false })
export class OperationProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(OperationProcessor.name);
  private readonly logError = throttledErrorLog((m) => this.logger.warn(`operations worker: ${m}`));

  private started = false;

  constructor(
    private readonly runner: OperationRunner,
    private readonly leadership: LeaderElection,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.leadership.onChange((leading) => this.follow(leading));
  }

  private async follow(leading: boolean): Promise<void> {
    if (!leading) {
      // Without waiting for active jobs: they meet NotLeaderError at their next reconcile pass.
      if (this.started) await this.worker.pause(true);
      return;
    }
    if (this.started) {
      this.worker.resume();
      return;
    }
    this.started = true;
    // run() settles only when the worker closes (at shutdown).
    this.worker.run().catch((e: Error) => this.logError(e));
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logError(err);
  }

  async process(job: Job<OperationJob>): Promise<void> {
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await this.runner.run(job.data.operationId, finalAttempt);
  }
}
