// The delivery processor over a typed in-memory fake of its repository, sending to a real HTTP
// receiver on the loopback interface: a signed POST of the stored body with the delivery id as the
// Idempotency-Key, the outcome recorded at the injected clock's time — delivered, retried within
// the round (BullMQ's backoff), deferred to a later round on the round's last attempt, failed for
// good when retrying cannot help (host not allowed) — and a finished delivery never sent again.
import type { Job } from 'bullmq';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadAppConfig, type AppConfig } from '../../config/app-config';
import type { NotificationDelivery, Receiver } from '../../generated/prisma/client';
import type { AlertMetrics } from '../../metrics/alert-metrics';
import { FakeClock, type Port } from '../../../test/support/fakes';
import type { DeliveryRepository, FailedAttempt } from '../notification.repository';
import { DeliveryProcessor } from './delivery.processor';
import type { DeliveryJob } from './delivery-queue.service';
import { IDEMPOTENCY_HEADER, receiverSecret, sign, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature';

const KEY = 'k'.repeat(32);
const T0 = Date.parse('2026-01-01T00:00:00Z');

type Row = NotificationDelivery & { receiver: Receiver };

class InMemoryDeliveries implements Port<DeliveryRepository> {
  readonly rows = new Map<string, Row>();
  async findWithReceiver(id: string): Promise<Row | null> {
    const row = this.rows.get(id);
    return row ? { ...row } : null;
  }
  async markDelivered(id: string, attempts: number, httpStatus: number, at: Date): Promise<void> {
    Object.assign(this.rows.get(id)!, {
      status: 'delivered',
      attempts,
      httpStatus,
      deliveredAt: at,
      lastError: null,
    });
  }
  async markFailedAttempt(id: string, outcome: FailedAttempt): Promise<void> {
    Object.assign(this.rows.get(id)!, outcome);
  }
}

class Metrics implements Pick<AlertMetrics, 'notifications'> {
  readonly notifications = new Counter({
    name: 'test_notifications_total',
    help: 'test',
    labelNames: ['receiver', 'outcome'] as const,
    registers: [],
  });
  async count(outcome: string): Promise<number> {
    const m = await this.notifications.get();
    return m.values.filter((v) => v.labels.outcome === outcome).reduce((s, v) => s + v.value, 0);
  }
}

/** The loopback receiver: answers `status` and keeps what it was sent. */
let status = 200;
const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    received.push({ headers: req.headers, body });
    res.writeHead(status).end('ok');
  });
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let repo: InMemoryDeliveries;
let metrics: Metrics;
const clock = new FakeClock(T0);

function processor(env: Record<string, string> = {}): { p: DeliveryProcessor; config: AppConfig } {
  const config = loadAppConfig({ SLUICE_ALERT_SIGNING_KEY: KEY, ...env });
  return { p: new DeliveryProcessor(repo, metrics, config, clock), config };
}

function delivery(fields: Partial<NotificationDelivery> = {}): Row {
  const at = new Date(T0);
  const receiver: Receiver = {
    id: '00000000-0000-4000-8000-000000000001',
    name: 'ops-hook',
    kind: 'webhook',
    url,
    matchers: [],
    sendResolved: true,
    groupWaitSeconds: 30,
    groupIntervalSeconds: 300,
    repeatIntervalSeconds: 14_400,
    secretVersion: 2,
    enabled: true,
    createdAt: at,
    createdBy: 'ops',
    updatedAt: at,
  };
  const row: Row = {
    id: '00000000-0000-4000-8000-0000000000d1',
    receiverId: receiver.id,
    groupKey: 'clicks',
    status: 'queued',
    attempts: 0,
    httpStatus: null,
    lastError: null,
    payload: { status: 'firing', alerts: [{ fingerprint: 'a1' }] },
    test: false,
    createdAt: at,
    deliveredAt: null,
    nextAttemptAt: null,
    ...fields,
    receiver,
  };
  repo.rows.set(row.id, row);
  return row;
}

/** The part of a BullMQ job the processor reads: attempt `made` (0-based) of `attempts`. */
const job = (
  deliveryId: string,
  made = 0,
  attempts = 3,
): Pick<Job<DeliveryJob>, 'data' | 'attemptsMade' | 'opts'> => ({
  data: { deliveryId },
  attemptsMade: made,
  opts: { attempts },
});

beforeEach(() => {
  repo = new InMemoryDeliveries();
  metrics = new Metrics();
  received.length = 0;
  status = 200;
});

describe('DeliveryProcessor.process', () => {
  it('POSTs the stored body signed for the receiver, keyed by the delivery id, and records it delivered', async () => {
    const d = delivery();
    await processor().p.process(job(d.id));
    expect(received).toHaveLength(1);
    const [req] = received;
    const ts = Math.floor(T0 / 1000);
    expect(req!.body).toBe(JSON.stringify(d.payload));
    expect(req!.headers[TIMESTAMP_HEADER]).toBe(String(ts));
    expect(req!.headers[IDEMPOTENCY_HEADER]).toBe(d.id);
    expect(req!.headers[SIGNATURE_HEADER]).toBe(sign(receiverSecret(KEY, d.receiverId, 2), ts, req!.body));
    expect(repo.rows.get(d.id)).toMatchObject({
      status: 'delivered',
      attempts: 1,
      httpStatus: 200,
      deliveredAt: new Date(T0),
      lastError: null,
    });
    expect(await metrics.count('delivered')).toBe(1);
  });

  it('an error answer before the round ends: recorded as retrying and thrown for BullMQ to retry', async () => {
    status = 503;
    const d = delivery({ attempts: 4 });
    await expect(processor().p.process(job(d.id, 0, 3))).rejects.toThrow('HTTP 503');
    expect(repo.rows.get(d.id)).toMatchObject({
      status: 'retrying',
      attempts: 5,
      lastError: 'HTTP 503',
      nextAttemptAt: null,
    });
    expect(await metrics.count('retry')).toBe(1);
  });

  it("the round's last attempt failing defers the delivery SLUICE_ALERT_DEFERRED_RETRY_MS from now", async () => {
    status = 500;
    const d = delivery();
    const { p, config } = processor();
    await p.process(job(d.id, 2, 3));
    expect(repo.rows.get(d.id)).toMatchObject({
      status: 'deferred',
      attempts: 1,
      lastError: 'HTTP 500',
      nextAttemptAt: new Date(T0 + config.SLUICE_ALERT_DEFERRED_RETRY_MS),
    });
  });

  it('a host no longer allowed fails the delivery for good, without a request', async () => {
    const d = delivery();
    await processor({ SLUICE_ALERT_RECEIVER_HOSTS: 'hooks.example.com' }).p.process(job(d.id));
    expect(received).toEqual([]);
    expect(repo.rows.get(d.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(repo.rows.get(d.id)!.lastError).toContain('not in SLUICE_ALERT_RECEIVER_HOSTS');
    expect(await metrics.count('failed')).toBe(1);
  });

  it('a delivered, failed or deferred delivery (a stale job) and a missing one are left alone', async () => {
    const { p } = processor();
    for (const s of ['delivered', 'failed', 'deferred']) {
      repo.rows.clear();
      const d = delivery({ status: s, attempts: 2 });
      await p.process(job(d.id));
      expect(repo.rows.get(d.id)).toMatchObject({ status: s, attempts: 2 });
    }
    await p.process(job('00000000-0000-4000-8000-00000000ffff'));
    expect(received).toEqual([]);
  });
});
