// Routing, after every evaluation (Alertmanager's dispatcher, reduced to what Sluice needs):
// every enabled receiver whose matchers an alert's labels satisfy gets that alert, grouped per
// query (group_by: [query]); silenced alerts are left out; each (receiver, query) group follows
// group_wait / group_interval / repeat_interval (decideFlush); a pass decides only the groups that
// changed or came due (routing-scope.ts). A flush writes a
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
import { DeliveryQueue } from './receivers/delivery-queue.service';
import { RoutingChain, routingSignature, type GroupTimers } from './routing-scope';
import { signingKey } from './receivers/signing-key';

const ROUTED_COLUMNS = {
  id: true,
  state: true,
  labels: true,
  queryName: true,
  resolvedAt: true,
  acknowledgedAt: true,
} as const;
type RoutedAlert = Pick<Alert, keyof typeof ROUTED_COLUMNS>;

/** A NotificationGroup row: its timers in epoch ms (GroupTimers) and the last sent fingerprint. */
interface GroupRow extends GroupTimers {
  readonly lastHash: string | null;
}
/** Every group's timers in one statement (the due ones are picked in routing-scope.ts). */
const GROUP_ROWS_SQL = `
  SELECT "receiverId"::text AS "receiverId", "groupKey",
    (extract(epoch FROM "firstSeenAt") * 1000)::float8 AS "firstSeenAtMs",
    (extract(epoch FROM "lastSentAt") * 1000)::float8 AS "lastSentAtMs",
    "lastHash"
  FROM "NotificationGroup"`;

/** Deliveries still `queued` this long after creation are enqueued again (Redis was away). */
const REQUEUE_AFTER_MS = 30_000;

@Injectable()
export class NotificationRouter {
  private readonly logger = new Logger(NotificationRouter.name);
  /** The last pass's time and signature (which groups the next pass must decide). */
  private readonly chain = new RoutingChain();

  constructor(
    private readonly prisma: PrismaRepository,
    private readonly queue: DeliveryQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Drops what the last pass knew: the next pass decides every group (a new leadership). */
  reset(): void {
    this.chain.reset();
  }

  /**
   * Decides the groups whose alerts changed (`changedQueries`: the evaluator knows them) or whose
   * timers came due since the last pass, or every group when the receivers or silences changed
   * or the chain of passes broke (routing-scope.ts says why that is the same decision).
   */
  async route(nowMs: number, changedQueries: ReadonlySet<string>): Promise<{ sent: number; groups: number }> {
    // Without a signing key nothing could be sent (see signing-key.ts): leave the groups alone.
    if (!signingKey(this.config)) return { sent: 0, groups: 0 };
    try {
      return await this.pass(nowMs, changedQueries);
    } catch (e) {
      // Part of the scope may be undecided: the next pass decides everything.
      this.chain.reset();
      throw e;
    }
  }

  private async pass(
    nowMs: number,
    changedQueries: ReadonlySet<string>,
  ): Promise<{ sent: number; groups: number }> {
    const now = new Date(nowMs);
    // Every read in one round of parallel statements: on a loaded database each sequential round
    // trip showed in the evaluation's time (BENCHMARKS.md, bench:alerts phases).
    const [receivers, silences, groups, due] = await Promise.all([
      this.prisma.receiver.findMany({ where: { enabled: true } }),
      this.prisma.silence.findMany({
        where: { startsAt: { lte: now }, endsAt: { gt: now }, expiredAt: null },
      }),
      this.prisma.$queryRawUnsafe<GroupRow[]>(GROUP_ROWS_SQL),
      this.dueDeferred(nowMs),
    ]);
    const signature = routingSignature(receivers, silences);
    if (receivers.length === 0) {
      this.chain.passed(nowMs, signature);
      return { sent: 0, groups: 0 };
    }
    const scope = this.chain.scope(nowMs, signature, changedQueries, groups, receivers);
    const inScope = (query: string) => scope.all || scope.queries.has(query);
    // What grouping and matching need, of the groups in scope only; the full rows (annotations…)
    // only of what is sent.
    const alerts =
      !scope.all && scope.queries.size === 0
        ? []
        : ((await this.prisma.alert.findMany({
            where: {
              state: { in: ['firing', 'resolved'] },
              ...(scope.all ? {} : { queryName: { in: [...scope.queries] } }),
            },
            select: ROUTED_COLUMNS,
          })) as RoutedAlert[]);
    const silenced = silences.map((s) => compileMatchers(s.matchers as unknown as LabelMatcher[]));
    const audible = alerts.filter((a) => !silenced.some((m) => m(a.labels as Record<string, string>)));
    const stateOf = new Map(groups.map((g) => [`${g.receiverId}/${g.groupKey}`, g]));
    let sent = 0;
    let decided = 0;
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
        if (g.receiverId === receiver.id && !byQuery.has(g.groupKey) && inScope(g.groupKey))
          byQuery.set(g.groupKey, []);
      for (const [query, list] of byQuery) {
        const stored = stateOf.get(`${receiver.id}/${query}`);
        sent += await this.flush(receiver, query, list, stored, nowMs);
        decided++;
      }
    }
    await this.requeueStale(nowMs, due);
    this.chain.passed(nowMs, signature);
    return { sent, groups: decided };
  }

  private async flush(
    receiver: Receiver,
    query: string,
    alerts: readonly RoutedAlert[],
    stored: GroupRow | undefined,
    nowMs: number,
  ): Promise<number> {
    const state: GroupState = stored
      ? { firstSeenAtMs: stored.firstSeenAtMs, lastSentAtMs: stored.lastSentAtMs, lastHash: stored.lastHash }
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
      if (!stored || stored.firstSeenAtMs !== decision.state.firstSeenAtMs) {
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
