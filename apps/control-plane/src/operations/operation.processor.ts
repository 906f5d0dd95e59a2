import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { OperationRunner } from './operation-runner.service';
import type { OperationJob } from './operation-queue.service';
import { OPERATIONS_QUEUE } from './operation-types';

@Processor(OPERATIONS_QUEUE, { concurrency: 4, lockDuration: 30_000 })
export class OperationProcessor extends WorkerHost {
  constructor(private readonly runner: OperationRunner) {
    super();
  }

  async process(job: Job<OperationJob>): Promise<void> {
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await this.runner.run(job.data.operationId, finalAttempt);
  }
}
