// Sends one notification: signs the stored body, POSTs it, records the outcome in the delivery
// log. Any replica may run it: the row's status makes a redelivery of a delivered notification a
// no-op, and the Idempotency-Key lets a receiver drop the duplicate a crash between "receiver
// answered 2xx" and "row marked delivered" could still cause.
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { AlertMetrics } from '../../metrics/alert-metrics';
import { Clock } from '../../clock/clock';
import { DeliveryRepository } from '../notification.repository';
import { BUILD_INFO } from '../../build-info';
import { ALERT_DELIVERY_QUEUE, type DeliveryJob } from './delivery-queue.service';
import { checkReceiverUrl, parseAllowList } from './receiver-url';
import { IDEMPOTENCY_HEADER, receiverSecret, sign, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature';
import { signingKey } from './signing-key';

const REQUEST_TIMEOUT_MS = 10_000;

/** A failure that retrying cannot fix (receiver gone, URL no longer allowed). */
class Permanent extends Error {}

// autorun off: the worker runs only where SLUICE_ALERT_SIGNING_KEY is set (signing-key.ts).
@Processor(ALERT_DELIVERY_QUEUE, { concurrency: 8, autorun: false })
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeliveryProcessor.name);

  constructor(
    @Inject(DeliveryRepository)
    private readonly deliveries: Pick<
      DeliveryRepository,
      'findWithReceiver' | 'markDelivered' | 'markFailedAttempt'
    >,
    @Inject(AlertMetrics) private readonly metrics: Pick<AlertMetrics, 'notifications'>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // run() settles only when the worker closes (at shutdown).
    if (signingKey(this.config)) this.worker.run().catch((e: Error) => this.onError(e));
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.debug(`alert delivery worker: ${err.message}`);
  }

  /** One attempt; what it uses of the BullMQ job is its delivery id and its attempt count. */
  async process(job: Pick<Job<DeliveryJob>, 'data' | 'attemptsMade' | 'opts'>): Promise<void> {
    const delivery = await this.deliveries.findWithReceiver(job.data.deliveryId);
    // Deferred: waiting for its next round (the sweep re-enqueues it), not this stale job.
    if (!delivery || ['delivered', 'failed', 'deferred'].includes(delivery.status)) return;
    const receiver = delivery.receiver;
    const attempt = delivery.attempts + 1;
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      const verdict = checkReceiverUrl(receiver.url, parseAllowList(this.config.SLUICE_ALERT_RECEIVER_HOSTS));
      if (!verdict.ok) throw new Permanent(verdict.reason);
      const key = signingKey(this.config);
      if (!key) throw new Permanent('no signing key (SLUICE_ALERT_SIGNING_KEY)');
      const body = JSON.stringify(delivery.payload);
      const ts = Math.floor(this.clock.now().getTime() / 1000);
      const res = await fetch(verdict.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': `sluice-alerting/${BUILD_INFO.version}`,
          [TIMESTAMP_HEADER]: String(ts),
          [SIGNATURE_HEADER]: sign(receiverSecret(key, receiver.id, receiver.secretVersion), ts, body),
          [IDEMPOTENCY_HEADER]: delivery.id,
        },
        body,
      });
      await res.arrayBuffer().catch(() => undefined); // drain so the socket is reused
      if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
      await this.deliveries.markDelivered(delivery.id, attempt, res.status, this.clock.now());
      this.metrics.notifications.inc({ receiver: receiver.name, outcome: 'delivered' });
    } catch (e) {
      const permanent = e instanceof Permanent;
      const message = (e as Error).message.slice(0, 500);
      // The last attempt of a round defers the delivery to a later round: only what retrying
      // cannot fix fails it for good.
      const status = permanent ? 'failed' : finalAttempt ? 'deferred' : 'retrying';
      await this.deliveries.markFailedAttempt(delivery.id, {
        status,
        attempts: attempt,
        lastError: message,
        nextAttemptAt:
          status === 'deferred'
            ? new Date(this.clock.now().getTime() + this.config.SLUICE_ALERT_DEFERRED_RETRY_MS)
            : null,
      });
      this.metrics.notifications.inc({
        receiver: receiver.name,
        outcome: status === 'failed' ? 'failed' : 'retry',
      });
      if (status === 'retrying') throw e; // BullMQ retries with backoff
    }
  }
}
