import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { OperationRunner } from './operation-runner.service';
import type { OperationJob } from './operation-queue.service';
import { OPERATIONS_QUEUE } from './operation-types';
import { throttledErrorLog } from './throttled-error-log';

@Processor(OPERATIONS_QUEUE, { concurrency: 4, lockDuration: 30_000 })
export class OperationProcessor extends WorkerHost {
  private readonly logger = new Logger(OperationProcessor.name);
  private readonly logError = throttledErrorLog((m) => this.logger.warn(`operations worker: ${m}`));

  constructor(private readonly runner: OperationRunner) {
    super();
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
