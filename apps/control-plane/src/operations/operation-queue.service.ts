// The one place that owns operation job ids, retries and backoff. The job id is the operation id,
// so enqueueing the same operation twice (API + recovery sweep) never runs it twice.
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { throttledErrorLog } from '../logging/throttled-error-log';
import type { Queue } from 'bullmq';
import { OPERATIONS_QUEUE } from './operation-types';

export interface OperationJob {
  operationId: string;
}

@Injectable()
export class OperationQueueService {
  private readonly logger = new Logger(OperationQueueService.name);

  constructor(@InjectQueue(OPERATIONS_QUEUE) private readonly queue: Queue<OperationJob>) {
    const logError = throttledErrorLog((m) => this.logger.warn(`operations queue: ${m}`));
    queue.on('error', logError);
  }

  /**
   * Enqueues without blocking the caller for long: while Redis is down the row stays QUEUED and
   * the recovery sweep enqueues it when Redis is back.
   */
  async enqueue(operationId: string, timeoutMs = 2000): Promise<boolean> {
    const add = this.queue.add(
      'run',
      { operationId },
      {
        jobId: operationId,
        attempts: 5,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: 1000,
        removeOnFail: 1000,
      },
    );
    const timeout = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs).unref());
    try {
      return (await Promise.race([add.then(() => true), timeout])) === true;
    } catch (e) {
      this.logger.warn(`enqueue ${operationId} failed: ${(e as Error).message}`);
      return false;
    }
  }

  /** True when BullMQ knows a job for this operation that is still waiting or running. */
  async isPending(operationId: string): Promise<boolean> {
    const job = await this.queue.getJob(operationId);
    if (!job) return false;
    const state = await job.getState();
    return ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'].includes(state);
  }

  async removeFinished(operationId: string): Promise<void> {
    const job = await this.queue.getJob(operationId);
    if (job && ((await job.isCompleted()) || (await job.isFailed()))) await job.remove();
  }
}
