// The notification router over a typed in-memory fake of its repository and of the delivery queue
// (as immich's service specs run over typed repository mocks): group_wait before the first send,
// one delivery row per group with the alerts' payload, silences, group drop, deferred deliveries
// requeued when due, stale queued ones enqueued again under their round, and nothing without a
// signing key. The statements themselves run on the real database in alerting-receivers.int.ts.
import { beforeEach, describe, expect, it } from 'vitest';
import { loadAppConfig } from '../config/app-config';
import type { Alert, Receiver, Silence } from '../generated/prisma/client';
import { FakeClock, type Port } from '../../test/support/fakes';
import { NotificationRouter } from './notification-router.service';
import type {
  GroupRow,
  PassReads,
  QueuedDelivery,
  RoutedAlert,
  RoutingRepository,
  RoutingWrites,
} from './notification.repository';
import type { DeliveryQueue } from './receivers/delivery-queue.service';

let nextId = 1;
const uuid = () => `00000000-0000-4000-8000-${String(nextId++).padStart(12, '0')}`;
const T0 = Date.parse('2026-01-01T00:00:00Z');

interface StoredDelivery {
  id: string;
  receiverId: string;
  groupKey: string;
  payload: unknown;
  status: string;
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date | null;
}

class InMemoryRouting implements Port<RoutingRepository> {
  readonly receivers: Receiver[] = [];
  readonly silences: Silence[] = [];
  readonly alerts: Alert[] = [];
  readonly groupRows = new Map<string, GroupRow>();
  readonly deliveries = new Map<string, StoredDelivery>();
  /** `createdAt` of the deliveries a pass writes (the fake database's clock). */
  now = new Date(T0);

  async passReads(_cluster: string, now: Date): Promise<PassReads> {
    return {
      receivers: this.receivers.filter((r) => r.enabled),
      silences: this.silences.filter((s) => s.startsAt <= now && s.endsAt > now && s.expiredAt === null),
      groups: [...this.groupRows.values()],
      due: [...this.deliveries.values()]
        .filter((d) => d.status === 'deferred' && d.nextAttemptAt !== null && d.nextAttemptAt <= now)
        .map((d) => ({ id: d.id })),
    };
  }
  async routedAlerts(_cluster: string, queries: readonly string[] | 'all'): Promise<RoutedAlert[]> {
    return this.alerts
      .filter((a) => ['firing', 'resolved'].includes(a.state))
      .filter((a) => queries === 'all' || queries.includes(a.queryName))
      .map((a) => ({
        id: a.id,
        state: a.state,
        labels: a.labels as Record<string, string>,
        queryName: a.queryName,
        resolvedAtMs: a.resolvedAt?.getTime() ?? null,
        acknowledged: a.acknowledgedAt !== null,
      }));
  }
  async alertsByIds(ids: readonly string[]): Promise<Alert[]> {
    return this.alerts.filter((a) => ids.includes(a.id));
  }
  async applyDecisions(w: RoutingWrites): Promise<void> {
    for (const d of w.drops) this.groupRows.delete(`${d.receiverId}/${d.groupKey}`);
    for (const s of w.states)
      this.groupRows.set(`${s.receiverId}/${s.groupKey}`, {
        receiverId: s.receiverId,
        groupKey: s.groupKey,
        firstSeenAtMs: s.firstSeenAt === null ? null : Date.parse(s.firstSeenAt),
        lastSentAtMs: s.lastSentAt === null ? null : Date.parse(s.lastSentAt),
        lastHash: s.lastHash,
      });
    for (const d of w.deliveries)
      this.deliveries.set(d.id, {
        ...d,
        status: 'queued',
        attempts: 0,
        createdAt: this.now,
        nextAttemptAt: null,
      });
  }
  async requeueDeferred(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const d = this.deliveries.get(id);
      if (d?.status === 'deferred') Object.assign(d, { status: 'queued', nextAttemptAt: null });
    }
  }
  async staleQueued(
    _cluster: string,
    createdBefore: Date,
    ids: readonly string[],
  ): Promise<QueuedDelivery[]> {
    return [...this.deliveries.values()]
      .filter((d) => d.status === 'queued' && (d.createdAt < createdBefore || ids.includes(d.id)))
      .map((d) => ({ id: d.id, attempts: d.attempts }));
  }
}

class RecordingQueue implements Pick<DeliveryQueue, 'enqueueAll'> {
  readonly jobs: Array<{ id: string; round: number }> = [];
  async enqueueAll(items: ReadonlyArray<{ deliveryId: string; round?: number }>): Promise<boolean> {
    for (const { deliveryId, round = 0 } of items) this.jobs.push({ id: deliveryId, round });
    return true;
  }
}

function receiver(fields: Partial<Receiver> = {}): Receiver {
  const at = new Date(T0);
  return {
    id: uuid(),
    name: 'ops-hook',
    kind: 'webhook',
    url: 'http://127.0.0.1:9/hook',
    matchers: [],
    sendResolved: true,
    groupWaitSeconds: 30,
    groupIntervalSeconds: 300,
    repeatIntervalSeconds: 14_400,
    secretVersion: 1,
    enabled: true,
    createdAt: at,
    createdBy: 'ops',
    updatedAt: at,
    ...fields,
  };
}

function firing(query: string, labels: Record<string, string> = {}): Alert {
  const at = new Date(T0);
  return {
    id: uuid(),
    ruleId: uuid(),
    queryId: uuid(),
    queryName: query,
    state: 'firing',
    activeAt: at,
    firedAt: at,
    resolvedAt: null,
    value: 12,
    figures: {},
    labels: { alertname: 'LagHigh', query, ...labels },
    annotations: { summary: `${query} lags` },
    acknowledgedAt: null,
    acknowledgedBy: null,
    ackComment: null,
    updatedAt: at,
  };
}

const config = loadAppConfig({ SLUICE_ALERT_SIGNING_KEY: 'k'.repeat(32) });
let repo: InMemoryRouting;
let queue: RecordingQueue;
let router: NotificationRouter;

beforeEach(() => {
  repo = new InMemoryRouting();
  queue = new RecordingQueue();
  router = new NotificationRouter(repo, queue, config, new FakeClock(T0));
});

describe('NotificationRouter.route', () => {
  it('opens a group, waits group_wait, then writes one delivery with the payload and enqueues it', async () => {
    const r = receiver();
    repo.receivers.push(r);
    const alert = firing('clicks');
    repo.alerts.push(alert);

    expect(await router.route(T0, new Set(['clicks']))).toEqual({ sent: 0, groups: 1 });
    expect(repo.groupRows.get(`${r.id}/clicks`)).toMatchObject({ firstSeenAtMs: T0, lastSentAtMs: null });
    expect(queue.jobs).toEqual([]);

    const later = T0 + r.groupWaitSeconds * 1000;
    expect(await router.route(later, new Set())).toEqual({ sent: 1, groups: 1 });
    const [delivery] = [...repo.deliveries.values()];
    expect(delivery).toMatchObject({ receiverId: r.id, groupKey: 'clicks', status: 'queued' });
    expect(delivery!.payload).toMatchObject({
      receiver: 'ops-hook',
      status: 'firing',
      groupLabels: { query: 'clicks' },
      alerts: [{ status: 'firing', labels: alert.labels, fingerprint: alert.id }],
    });
    expect(queue.jobs).toEqual([{ id: delivery!.id, round: 0 }]);
    expect(repo.groupRows.get(`${r.id}/clicks`)).toMatchObject({ lastSentAtMs: later });
  });

  it('routes an alert only to receivers whose matchers its labels satisfy, and a silenced one to none', async () => {
    const team = receiver({
      name: 'team-a',
      groupWaitSeconds: 0,
      matchers: [{ name: 'team', value: 'a', isRegex: false, isEqual: true }],
    });
    repo.receivers.push(team);
    repo.alerts.push(
      firing('clicks', { team: 'a' }),
      firing('orders', { team: 'b' }),
      firing('pay', { team: 'a' }),
    );
    repo.silences.push({
      id: uuid(),
      matchers: [{ name: 'query', value: 'pay', isRegex: false, isEqual: true }],
      startsAt: new Date(T0 - 1000),
      endsAt: new Date(T0 + 3_600_000),
      createdBy: 'ops',
      comment: 'maintenance',
      createdAt: new Date(T0 - 1000),
      expiredAt: null,
    });
    expect(await router.route(T0, new Set())).toEqual({ sent: 1, groups: 1 });
    expect([...repo.deliveries.values()].map((d) => d.groupKey)).toEqual(['clicks']);
  });

  it('drops the group once its alerts are gone', async () => {
    const r = receiver({ groupWaitSeconds: 0 });
    repo.receivers.push(r);
    repo.alerts.push(firing('clicks'));
    await router.route(T0, new Set(['clicks']));
    expect(repo.groupRows.has(`${r.id}/clicks`)).toBe(true);
    repo.alerts.length = 0;
    await router.route(T0 + 1000, new Set(['clicks']));
    expect(repo.groupRows.has(`${r.id}/clicks`)).toBe(false);
  });

  it('puts a deferred delivery back in the queue once due, under its next round', async () => {
    const r = receiver();
    repo.receivers.push(r);
    const id = uuid();
    repo.deliveries.set(id, {
      id,
      receiverId: r.id,
      groupKey: 'clicks',
      payload: {},
      status: 'deferred',
      attempts: 3,
      createdAt: new Date(T0 - 600_000),
      nextAttemptAt: new Date(T0 + 60_000),
    });
    await router.route(T0, new Set());
    expect(repo.deliveries.get(id)!.status).toBe('deferred');
    expect(queue.jobs).toEqual([]);
    await router.route(T0 + 60_000, new Set());
    expect(repo.deliveries.get(id)).toMatchObject({ status: 'queued', nextAttemptAt: null });
    expect(queue.jobs).toEqual([{ id, round: 3 }]);
  });

  it('does nothing without a signing key (nothing could be sent)', async () => {
    const unsigned = new NotificationRouter(repo, queue, loadAppConfig({}), new FakeClock(T0));
    repo.receivers.push(receiver({ groupWaitSeconds: 0 }));
    repo.alerts.push(firing('clicks'));
    expect(await unsigned.route(T0, new Set(['clicks']))).toEqual({ sent: 0, groups: 0 });
    expect(repo.groupRows.size).toBe(0);
  });
});
