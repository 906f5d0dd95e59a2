// Notifications go out through BullMQ so a receiver that is down delays them (retries with
// exponential backoff) instead of losing them, and a control plane that restarts picks them up.
// The job id is the delivery id, which is also the Idempotency-Key the receiver sees: enqueueing
// the same delivery twice (evaluator + sweep) never sends it twice.
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';

export const ALERT_DELIVERY_QUEUE = 'alert-notifications';

/** Round 0 is the delivery id itself (what an enqueue after a restart deduplicates against). */
export function deliveryJobId(deliveryId: string, round: number): string {
  return round === 0 ? deliveryId : `${deliveryId}-r${round}`;
}

export interface DeliveryJob {
  deliveryId: string;
}

@Injectable()
export class DeliveryQueue {
  private readonly logger = new Logger(DeliveryQueue.name);

  constructor(
    @InjectQueue(ALERT_DELIVERY_QUEUE) private readonly queue: Queue<DeliveryJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    queue.on('error', (e) => this.logger.debug(`alert queue: ${e.message}`));
  }

  /**
   * False when Redis did not take it: the row stays `queued` and the evaluator's sweep retries.
   * `round` > 0 is a deferred delivery's next round of attempts: a job id of its own, since BullMQ
   * keeps the failed job of the previous round under the delivery's id and would drop the add.
   */
  async enqueue(deliveryId: string, round = 0): Promise<boolean> {
    return this.enqueueAll([{ deliveryId, round }]);
  }

  /**
   * Several deliveries in one Redis round trip (BullMQ's addBulk: one pipeline of the same add
   * script, each job deduplicated by its id as `add` is). A routing pass that sends a burst of
   * notifications waited for one round trip per delivery on the API's event loop, and on a loaded
   * box each wake-up after a reply waits for a core (BENCHMARKS.md, 2026-12-03 15:59: the slowest
   * evaluations' `route.apply`). False when Redis did not take them: the rows stay `queued` and the
   * evaluator's sweep retries, as for one.
   */
  async enqueueAll(items: ReadonlyArray<{ deliveryId: string; round?: number }>): Promise<boolean> {
    if (items.length === 0) return true;
    try {
      await this.queue.addBulk(
        items.map(({ deliveryId, round = 0 }) => ({
          name: 'deliver',
          data: { deliveryId },
          opts: {
            jobId: deliveryJobId(deliveryId, round),
            attempts: this.config.SLUICE_ALERT_DELIVERY_ATTEMPTS,
            backoff: { type: 'exponential', delay: this.config.SLUICE_ALERT_RETRY_BASE_MS },
            removeOnComplete: 1000,
            removeOnFail: 1000,
          },
        })),
      );
      return true;
    } catch (e) {
      const ids = items.map((i) => i.deliveryId).join(', ');
      this.logger.warn(`enqueue deliveries ${ids} failed: ${(e as Error).message}`);
      return false;
    }
  }
}
