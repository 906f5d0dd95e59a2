// Routing, after every evaluation (Alertmanager's dispatcher, reduced to what Sluice needs):
// every enabled receiver whose matchers an alert's labels satisfy gets that alert, grouped per
// query (group_by: [query]); silenced alerts are left out; each (receiver, query) group follows
// group_wait / group_interval / repeat_interval (decideFlush); a pass decides only the groups that
// changed or came due (routing-scope.ts). A flush writes a
// NotificationDelivery row (the delivery log, its id the idempotency key) and enqueues it.
// A leader routes only its own cluster's groups: a group's key is a query name (unique across the
// clusters of one database, never reused: queries are soft-deleted), and the cluster owning that
// query (Query.cluster) is the one whose leader evaluates its alerts (cluster-scope.ts). Two
// clusters' leaders on one database with the same receivers would otherwise both decide, and both
// send, the same notification. Groups of a query no cluster has adopted yet wait for its owner.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  compileMatchers,
  decideFlush,
  EMPTY_GROUP,
  slackPayload,
  webhookPayload,
  type FlushDecision,
  type GroupAlert,
  type GroupState,
  type LabelMatcher,
} from '@sluice/alerting';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { clusterName } from '../leadership/cluster-name';
import type { Alert, Prisma, Receiver } from '../generated/prisma/client';
import { PrismaRepository } from '../repositories/prisma.repository';
import { DeliveryQueue } from './receivers/delivery-queue.service';
import { RoutingChain, routingSignature, type GroupTimers } from './routing-scope';
import { signingKey } from './receivers/signing-key';

/** What grouping, matching and decideFlush need of an alert (the full row only if it is sent). */
interface RoutedAlert {
  readonly id: string;
  readonly state: string;
  readonly labels: Record<string, string>;
  readonly queryName: string;
  readonly resolvedAtMs: number | null;
  readonly acknowledged: boolean;
}
/**
 * The firing/resolved alerts on this cluster's queries ($1 the cluster), all of them or ($2, a JSON
 * array) those of these query names.
 */
const routedAlertsSql = (some: boolean) => `
  SELECT a.id::text AS id, a.state, a.labels, a."queryName",
    (extract(epoch FROM a."resolvedAt") * 1000)::float8 AS "resolvedAtMs",
    a."acknowledgedAt" IS NOT NULL AS acknowledged
  FROM "Alert" a JOIN "Query" q ON q.id = a."queryId"
  WHERE a.state IN ('firing', 'resolved') AND q.cluster = $1
  ${some ? `AND a."queryName" IN (SELECT jsonb_array_elements_text($2::jsonb))` : ''}`;

/** A NotificationGroup row: its timers in epoch ms (GroupTimers) and the last sent fingerprint. */
interface GroupRow extends GroupTimers {
  readonly lastHash: string | null;
}
/**
 * Every group of this cluster's queries ($1) with its timers, in one statement (the due ones are
 * picked in routing-scope.ts). Another cluster's groups are its leader's to decide, drop included.
 */
const GROUP_ROWS_SQL = `
  SELECT g."receiverId"::text AS "receiverId", g."groupKey",
    (extract(epoch FROM g."firstSeenAt") * 1000)::float8 AS "firstSeenAtMs",
    (extract(epoch FROM g."lastSentAt") * 1000)::float8 AS "lastSentAtMs",
    g."lastHash"
  FROM "NotificationGroup" g JOIN "Query" q ON q.name = g."groupKey"
  WHERE q.cluster = $1`;
/**
 * Deliveries of this cluster's groups ($1) past their deferral ($2), oldest first, and test
 * notifications (group "test", no query: every leader re-queues them, so with several clusters on
 * one database a deferred test notification may arrive once per cluster — never not at all).
 */
const DUE_DEFERRED_SQL = `
  SELECT d.id::text AS id FROM "NotificationDelivery" d LEFT JOIN "Query" q ON q.name = d."groupKey"
  WHERE (q.cluster = $1 OR d.test) AND d.status = 'deferred' AND d."nextAttemptAt" <= $2::timestamp(3)
  ORDER BY d."nextAttemptAt" LIMIT 100`;
/** Deliveries of this cluster's groups ($1) and test notifications still queued since before $2, or among $3 (JSON). */
const STALE_QUEUED_SQL = `
  SELECT d.id::text AS id, d.attempts FROM "NotificationDelivery" d LEFT JOIN "Query" q ON q.name = d."groupKey"
  WHERE (q.cluster = $1 OR d.test) AND d.status = 'queued'
    AND (d."createdAt" < $2::timestamp(3) OR d.id::text IN (SELECT jsonb_array_elements_text($3::jsonb)))
  LIMIT 200`;

/** One group's decision in a pass (applied with the others in one transaction). */
interface Plan {
  receiver: Receiver;
  query: string;
  stored: GroupRow | undefined;
  decision: FlushDecision;
  /** Alerts a send carries (sendResolved false leaves resolved ones out). */
  includedIds: string[];
}

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
    const cluster = clusterName(this.config);
    // Every read in one round of parallel statements: on a loaded database each sequential round
    // trip showed in the evaluation's time (BENCHMARKS.md, bench:alerts phases).
    const [receivers, silences, groups, due] = await Promise.all([
      this.prisma.receiver.findMany({ where: { enabled: true } }),
      this.prisma.silence.findMany({
        where: { startsAt: { lte: now }, endsAt: { gt: now }, expiredAt: null },
      }),
      this.prisma.$queryRawUnsafe<GroupRow[]>(GROUP_ROWS_SQL, cluster),
      this.dueDeferred(cluster, nowMs),
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
        : scope.all
          ? await this.prisma.$queryRawUnsafe<RoutedAlert[]>(routedAlertsSql(false), cluster)
          : await this.prisma.$queryRawUnsafe<RoutedAlert[]>(
              routedAlertsSql(true),
              cluster,
              JSON.stringify([...scope.queries]),
            );
    const silenced = silences.map((s) => compileMatchers(s.matchers as unknown as LabelMatcher[]));
    const audible = alerts.filter((a) => !silenced.some((m) => m(a.labels)));
    const stateOf = new Map(groups.map((g) => [`${g.receiverId}/${g.groupKey}`, g]));
    const plans: Plan[] = [];
    for (const receiver of receivers) {
      const routes = compileMatchers(receiver.matchers as unknown as LabelMatcher[]);
      const byQuery = new Map<string, RoutedAlert[]>();
      for (const a of audible) {
        if (!routes(a.labels)) continue;
        const list = byQuery.get(a.queryName) ?? [];
        list.push(a);
        byQuery.set(a.queryName, list);
      }
      // Groups with stored state but no alerts left still need their decision (drop).
      for (const g of groups)
        if (g.receiverId === receiver.id && !byQuery.has(g.groupKey) && inScope(g.groupKey))
          byQuery.set(g.groupKey, []);
      for (const [query, list] of byQuery) {
        plans.push(this.decide(receiver, query, list, stateOf.get(`${receiver.id}/${query}`), nowMs));
      }
    }
    const sent = await this.apply(plans);
    await this.requeueStale(cluster, nowMs, due);
    this.chain.passed(nowMs, signature);
    return { sent, groups: plans.length };
  }

  /** decideFlush for one group, and the ids of the alerts a send includes. */
  private decide(
    receiver: Receiver,
    query: string,
    alerts: readonly RoutedAlert[],
    stored: GroupRow | undefined,
    nowMs: number,
  ): Plan {
    const state: GroupState = stored
      ? { firstSeenAtMs: stored.firstSeenAtMs, lastSentAtMs: stored.lastSentAtMs, lastHash: stored.lastHash }
      : EMPTY_GROUP;
    const groupAlerts: GroupAlert[] = alerts.map((a) => ({
      id: a.id,
      status: a.state === 'firing' ? 'firing' : 'resolved',
      resolvedAtMs: a.resolvedAtMs,
      acknowledged: a.acknowledged,
    }));
    const decision = decideFlush(state, groupAlerts, nowMs, {
      groupWaitMs: receiver.groupWaitSeconds * 1000,
      groupIntervalMs: receiver.groupIntervalSeconds * 1000,
      repeatIntervalMs: receiver.repeatIntervalSeconds * 1000,
    });
    if (decision.action !== 'send') return { receiver, query, stored, decision, includedIds: [] };
    const ids = new Set(decision.alerts.map((a) => a.id));
    const includedIds = alerts
      .filter((a) => ids.has(a.id) && (receiver.sendResolved || a.state === 'firing'))
      .map((a) => a.id);
    return { receiver, query, stored, decision, includedIds };
  }

  /**
   * The pass's decisions as one transaction — dropped groups in one DELETE, changed group states
   * in one INSERT … ON CONFLICT, the deliveries in one INSERT — then each delivery enqueued. One
   * transaction per group (up to three round trips each) made routing the longest phase of an
   * evaluation on a loaded database (BENCHMARKS.md). A group's state and its delivery row are
   * still written together.
   */
  private async apply(plans: readonly Plan[]): Promise<number> {
    const drops: Array<{ receiverId: string; groupKey: string }> = [];
    const states: Array<{
      receiverId: string;
      groupKey: string;
      firstSeenAt: string | null;
      lastSentAt: string | null;
      lastHash: string | null;
    }> = [];
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    for (const { receiver, query, stored, decision } of plans) {
      if (decision.action === 'drop') {
        if (stored) drops.push({ receiverId: receiver.id, groupKey: query });
        continue;
      }
      // A wait changes nothing stored unless it opened the group (group_wait starts now).
      if (decision.action === 'wait' && stored && stored.firstSeenAtMs === decision.state.firstSeenAtMs)
        continue;
      states.push({
        receiverId: receiver.id,
        groupKey: query,
        firstSeenAt: iso(decision.state.firstSeenAtMs),
        lastSentAt: iso(decision.state.lastSentAtMs),
        lastHash: decision.state.lastHash,
      });
    }
    const includedIds = plans.flatMap((p) => p.includedIds);
    const full =
      includedIds.length > 0 ? await this.prisma.alert.findMany({ where: { id: { in: includedIds } } }) : [];
    const byId = new Map(full.map((a) => [a.id, a]));
    const deliveries: Prisma.NotificationDeliveryCreateManyInput[] = [];
    for (const p of plans) {
      const included = p.includedIds.flatMap((id) => byId.get(id) ?? []);
      if (included.length === 0) continue;
      deliveries.push({
        id: this.newDeliveryId(),
        receiverId: p.receiver.id,
        groupKey: p.query,
        payload: this.payload(p.receiver, p.query, included) as unknown as Prisma.InputJsonValue,
      });
    }
    const writes: Prisma.PrismaPromise<unknown>[] = [];
    if (drops.length > 0)
      writes.push(
        this.prisma.$executeRawUnsafe(
          `DELETE FROM "NotificationGroup" WHERE ("receiverId", "groupKey") IN (
             SELECT "receiverId", "groupKey" FROM jsonb_to_recordset($1::jsonb) AS x("receiverId" uuid, "groupKey" text))`,
          JSON.stringify(drops),
        ),
      );
    if (states.length > 0)
      writes.push(
        this.prisma.$executeRawUnsafe(
          `INSERT INTO "NotificationGroup" ("receiverId", "groupKey", "firstSeenAt", "lastSentAt", "lastHash")
           SELECT "receiverId", "groupKey", "firstSeenAt", "lastSentAt", "lastHash"
           FROM jsonb_to_recordset($1::jsonb) AS x("receiverId" uuid, "groupKey" text,
             "firstSeenAt" timestamp(3), "lastSentAt" timestamp(3), "lastHash" text)
           ON CONFLICT ("receiverId", "groupKey") DO UPDATE SET "firstSeenAt" = EXCLUDED."firstSeenAt",
             "lastSentAt" = EXCLUDED."lastSentAt", "lastHash" = EXCLUDED."lastHash"`,
          JSON.stringify(states),
        ),
      );
    if (deliveries.length > 0) writes.push(this.prisma.notificationDelivery.createMany({ data: deliveries }));
    if (writes.length > 0) await this.prisma.$transaction(writes);
    // A delivery Redis refused stays `queued` and is enqueued again by requeueStale.
    for (const d of deliveries) await this.queue.enqueue(d.id as string);
    return deliveries.length;
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
  private dueDeferred(cluster: string, nowMs: number): Promise<Array<{ id: string }>> {
    return this.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      DUE_DEFERRED_SQL,
      cluster,
      new Date(nowMs).toISOString(),
    );
  }

  private async requeueStale(
    cluster: string,
    nowMs: number,
    due: ReadonlyArray<{ id: string }>,
  ): Promise<void> {
    for (const d of due) {
      await this.prisma.notificationDelivery.updateMany({
        where: { id: d.id, status: 'deferred' },
        data: { status: 'queued', nextAttemptAt: null },
      });
    }
    const stale = await this.prisma.$queryRawUnsafe<Array<{ id: string; attempts: number }>>(
      STALE_QUEUED_SQL,
      cluster,
      new Date(nowMs - REQUEUE_AFTER_MS).toISOString(),
      JSON.stringify(due.map((d) => d.id)),
    );
    for (const d of stale) {
      // A delivery's round is its number of attempts so far: the same job id on every re-enqueue.
      if (!(await this.queue.enqueue(d.id, d.attempts))) {
        this.logger.debug('alert queue unavailable; requeue retried next tick');
        return;
      }
    }
  }
}
