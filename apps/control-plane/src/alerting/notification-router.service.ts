// Routing, after every evaluation (Alertmanager's dispatcher, reduced to what Sluice needs):
// every enabled receiver whose matchers an alert's labels satisfy gets that alert, grouped per
// query (group_by: [query]); silenced alerts are left out; each (receiver, query) group follows
// group_wait / group_interval / repeat_interval (decideFlush). A flush writes a
// NotificationDelivery row (the delivery log, its id the idempotency key) and enqueues it.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  compileMatchers,
  decideFlush,
  EMPTY_GROUP,
  slackPayload,
  webhookPayload,
  type GroupAlert,
  type GroupState,
  type LabelMatcher,
} from '@sluice/alerting';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Alert, Prisma, Receiver } from '../generated/prisma/client';
import { PrismaRepository } from '../repositories/prisma.repository';
import { NO_FOREIGN_QUERIES, type ForeignQueries } from './alert-evaluation.repository';
import { DeliveryQueue } from './receivers/delivery-queue.service';
import { signingKey } from './receivers/signing-key';

const ROUTED_COLUMNS = {
  id: true,
  queryId: true,
  state: true,
  labels: true,
  queryName: true,
  resolvedAt: true,
  acknowledgedAt: true,
} as const;
type RoutedAlert = Pick<Alert, keyof typeof ROUTED_COLUMNS>;

/** Deliveries still `queued` this long after creation are enqueued again (Redis was away). */
const REQUEUE_AFTER_MS = 30_000;

@Injectable()
export class NotificationRouter {
  private readonly logger = new Logger(NotificationRouter.name);

  constructor(
    private readonly prisma: PrismaRepository,
    private readonly queue: DeliveryQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Sends what is due for the alerts of this cluster's queries. `foreign` names the live queries of
   * other clusters: their alerts and notification groups are their own leader's to route.
   */
  async route(nowMs: number, foreign: ForeignQueries = NO_FOREIGN_QUERIES): Promise<number> {
    // Without a signing key nothing could be sent (see signing-key.ts): leave the groups alone.
    if (!signingKey(this.config)) return 0;
    const now = new Date(nowMs);
    // Every read in one round of parallel statements: on a loaded database each sequential round
    // trip showed in the evaluation's time (BENCHMARKS.md, bench:alerts phases).
    const [receivers, alerts, silences, groups, due] = await Promise.all([
      this.prisma.receiver.findMany({ where: { enabled: true } }),
      // What grouping and matching need; the full rows (annotations…) only of what is sent.
      this.prisma.alert.findMany({
        where: { state: { in: ['firing', 'resolved'] } },
        select: ROUTED_COLUMNS,
      }) as Promise<RoutedAlert[]>,
      this.prisma.silence.findMany({
        where: { startsAt: { lte: now }, endsAt: { gt: now }, expiredAt: null },
      }),
      this.prisma.notificationGroup.findMany(),
      this.dueDeferred(nowMs),
    ]);
    if (receivers.length === 0) return 0;
    const silenced = silences.map((s) => compileMatchers(s.matchers as unknown as LabelMatcher[]));
    const audible = alerts.filter(
      (a) => !foreign.ids.has(a.queryId) && !silenced.some((m) => m(a.labels as Record<string, string>)),
    );
    const stateOf = new Map(groups.map((g) => [`${g.receiverId}/${g.groupKey}`, g]));
    let sent = 0;
    for (const receiver of receivers) {
      const routes = compileMatchers(receiver.matchers as unknown as LabelMatcher[]);
      const byQuery = new Map<string, RoutedAlert[]>();
      for (const a of audible) {
        if (!routes(a.labels as Record<string, string>)) continue;
        const list = byQuery.get(a.queryName) ?? [];
        list.push(a);
        byQuery.set(a.queryName, list);
      }
      // Groups with stored state but no alerts left still need their decision (drop).
      for (const g of groups)
        if (g.receiverId === receiver.id && !byQuery.has(g.groupKey) && !foreign.names.has(g.groupKey))
          byQuery.set(g.groupKey, []);
      for (const [query, list] of byQuery) {
        const stored = stateOf.get(`${receiver.id}/${query}`);
        sent += await this.flush(receiver, query, list, stored, nowMs);
      }
    }
    await this.requeueStale(nowMs, due);
    return sent;
  }

  private async flush(
    receiver: Receiver,
    query: string,
    alerts: readonly RoutedAlert[],
    stored: { firstSeenAt: Date | null; lastSentAt: Date | null; lastHash: string | null } | undefined,
    nowMs: number,
  ): Promise<number> {
    const state: GroupState = stored
      ? {
          firstSeenAtMs: stored.firstSeenAt?.getTime() ?? null,
          lastSentAtMs: stored.lastSentAt?.getTime() ?? null,
          lastHash: stored.lastHash,
        }
      : EMPTY_GROUP;
    const groupAlerts: GroupAlert[] = alerts.map((a) => ({
      id: a.id,
      status: a.state === 'firing' ? 'firing' : 'resolved',
      resolvedAtMs: a.resolvedAt?.getTime() ?? null,
      acknowledged: a.acknowledgedAt !== null,
    }));
    const decision = decideFlush(state, groupAlerts, nowMs, {
      groupWaitMs: receiver.groupWaitSeconds * 1000,
      groupIntervalMs: receiver.groupIntervalSeconds * 1000,
      repeatIntervalMs: receiver.repeatIntervalSeconds * 1000,
    });
    const where = { receiverId_groupKey: { receiverId: receiver.id, groupKey: query } };
    if (decision.action === 'drop') {
      if (stored)
        await this.prisma.notificationGroup.deleteMany({
          where: { receiverId: receiver.id, groupKey: query },
        });
      return 0;
    }
    const data = {
      firstSeenAt: decision.state.firstSeenAtMs === null ? null : new Date(decision.state.firstSeenAtMs),
      lastSentAt: decision.state.lastSentAtMs === null ? null : new Date(decision.state.lastSentAtMs),
      lastHash: decision.state.lastHash,
    };
    if (decision.action === 'wait') {
      if (!stored || stored.firstSeenAt?.getTime() !== data.firstSeenAt?.getTime()) {
        await this.prisma.notificationGroup.upsert({
          where,
          create: { receiverId: receiver.id, groupKey: query, ...data },
          update: data,
        });
      }
      return 0;
    }
    const ids = new Set(decision.alerts.map((a) => a.id));
    const includedIds = alerts
      .filter((a) => ids.has(a.id) && (receiver.sendResolved || a.state === 'firing'))
      .map((a) => a.id);
    const included =
      includedIds.length > 0 ? await this.prisma.alert.findMany({ where: { id: { in: includedIds } } }) : [];
    const deliveryId = included.length > 0 ? this.newDeliveryId() : null;
    const writes: Prisma.PrismaPromise<unknown>[] = [
      this.prisma.notificationGroup.upsert({
        where,
        create: { receiverId: receiver.id, groupKey: query, ...data },
        update: data,
      }),
    ];
    if (deliveryId) {
      writes.push(
        this.prisma.notificationDelivery.create({
          data: {
            id: deliveryId,
            receiverId: receiver.id,
            groupKey: query,
            payload: this.payload(receiver, query, included) as unknown as Prisma.InputJsonValue,
          },
        }),
      );
    }
    await this.prisma.$transaction(writes);
    if (deliveryId) await this.queue.enqueue(deliveryId);
    return deliveryId ? 1 : 0;
  }

  private newDeliveryId(): string {
    return randomUUID();
  }

  payload(receiver: Pick<Receiver, 'name' | 'kind'>, query: string, alerts: readonly Alert[]): object {
    const external = `http://${this.config.SLUICE_API_HOST}:${this.config.SLUICE_API_PORT}`;
    const v4 = webhookPayload({
      receiver: receiver.name,
      groupLabels: { query },
      externalURL: external,
      alerts: alerts.map((a) => ({
        status: a.state === 'firing' ? 'firing' : 'resolved',
        labels: a.labels as Record<string, string>,
        annotations: a.annotations as Record<string, string>,
        startsAtMs: (a.firedAt ?? a.activeAt ?? new Date()).getTime(),
        endsAtMs: a.state === 'resolved' ? (a.resolvedAt?.getTime() ?? null) : null,
        generatorURL: `${external}/api/v1/alerts/${a.id}`,
        fingerprint: a.id,
      })),
    });
    return receiver.kind === 'slack' ? slackPayload(v4) : v4;
  }

  /**
   * Deferred deliveries whose next round is due go back to `queued` with a job of their own (one
   * replica wins the status change); rows left `queued` (Redis refused the job) are enqueued
   * again under the same job id, which BullMQ deduplicates, so adding again is safe.
   */
  private dueDeferred(nowMs: number): Promise<Array<{ id: string }>> {
    return this.prisma.notificationDelivery.findMany({
      where: { status: 'deferred', nextAttemptAt: { lte: new Date(nowMs) } },
      select: { id: true },
      orderBy: { nextAttemptAt: 'asc' },
      take: 100,
    });
  }

  private async requeueStale(nowMs: number, due: ReadonlyArray<{ id: string }>): Promise<void> {
    for (const d of due) {
      await this.prisma.notificationDelivery.updateMany({
        where: { id: d.id, status: 'deferred' },
        data: { status: 'queued', nextAttemptAt: null },
      });
    }
    const stale = await this.prisma.notificationDelivery.findMany({
      where: {
        status: 'queued',
        OR: [{ createdAt: { lt: new Date(nowMs - REQUEUE_AFTER_MS) } }, { id: { in: due.map((d) => d.id) } }],
      },
      select: { id: true, attempts: true },
      take: 200,
    });
    for (const d of stale) {
      // A delivery's round is its number of attempts so far: the same job id on every re-enqueue.
      if (!(await this.queue.enqueue(d.id, d.attempts))) {
        this.logger.debug('alert queue unavailable; requeue retried next tick');
        return;
      }
    }
  }
}
