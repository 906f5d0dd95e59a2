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
import { performance } from 'node:perf_hooks';
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
import { Clock } from '../clock/clock';
import type { Alert, Prisma, Receiver } from '../generated/prisma/client';
import {
  RoutingRepository,
  type GroupRow,
  type GroupStateWrite,
  type NewDelivery,
  type RoutedAlert,
} from './notification.repository';
import { DeliveryQueue } from './receivers/delivery-queue.service';
import { RoutingChain, routingSignature } from './routing-scope';
import { signingKey } from './receivers/signing-key';

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

/** The public members of T (what a caller uses): a typed fake can stand in for it. */
type Port<T> = { [K in keyof T]: T[K] };

@Injectable()
export class NotificationRouter {
  private readonly logger = new Logger(NotificationRouter.name);
  /** The last pass's time and signature (which groups the next pass must decide). */
  private readonly chain = new RoutingChain();

  constructor(
    @Inject(RoutingRepository) private readonly repo: Port<RoutingRepository>,
    @Inject(DeliveryQueue) private readonly queue: Pick<DeliveryQueue, 'enqueueAll'>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
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
  async route(
    nowMs: number,
    changedQueries: ReadonlySet<string>,
    phasesMs: Record<string, number> = {},
  ): Promise<{ sent: number; groups: number }> {
    // Without a signing key nothing could be sent (see signing-key.ts): leave the groups alone.
    if (!signingKey(this.config)) return { sent: 0, groups: 0 };
    try {
      return await this.pass(nowMs, changedQueries, phasesMs);
    } catch (e) {
      // Part of the scope may be undecided: the next pass decides everything.
      this.chain.reset();
      throw e;
    }
  }

  private async pass(
    nowMs: number,
    changedQueries: ReadonlySet<string>,
    phasesMs: Record<string, number>,
  ): Promise<{ sent: number; groups: number }> {
    // Where a pass spends its time (bench:alerts reports it beside the evaluation's phases).
    let t = performance.now();
    const lap = (name: string) => {
      const n = performance.now();
      phasesMs[name] = Math.round(n - t);
      t = n;
    };
    const now = new Date(nowMs);
    const cluster = clusterName(this.config);
    // Every read in one statement: on a loaded database each sequential round trip showed in the
    // evaluation's time, and each statement is a socket write on the API's event loop
    // (BENCHMARKS.md, bench:alerts phases and main-thread profile). `due`: deferred deliveries whose
    // next round is due (requeueStale puts them back).
    const { receivers, silences, groups, due } = await this.repo.passReads(cluster, now);
    lap('read');
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
        : await this.repo.routedAlerts(cluster, scope.all ? 'all' : [...scope.queries]);
    lap('alerts');
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
    lap('decide');
    const sent = await this.apply(plans);
    lap('apply');
    await this.requeueStale(cluster, nowMs, due);
    lap('requeue');
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
   * The pass's decisions as one statement — dropped groups in one DELETE, changed group states
   * in one INSERT … ON CONFLICT, the deliveries in one INSERT — then each delivery enqueued. One
   * transaction per group (up to three round trips each) made routing the longest phase of an
   * evaluation on a loaded database (BENCHMARKS.md). A group's state and its delivery row are
   * still written together.
   */
  private async apply(plans: readonly Plan[]): Promise<number> {
    const drops: Array<{ receiverId: string; groupKey: string }> = [];
    const states: GroupStateWrite[] = [];
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
    const full = await this.repo.alertsByIds(includedIds);
    const byId = new Map(full.map((a) => [a.id, a]));
    const deliveries: NewDelivery[] = [];
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
    await this.repo.applyDecisions({ drops, states, deliveries });
    // Deliveries Redis refused stay `queued` and are enqueued again by requeueStale.
    await this.queue.enqueueAll(deliveries.map((d) => ({ deliveryId: d.id })));
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
        startsAtMs: (a.firedAt ?? a.activeAt ?? this.clock.now()).getTime(),
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
  private async requeueStale(
    cluster: string,
    nowMs: number,
    due: ReadonlyArray<{ id: string }>,
  ): Promise<void> {
    await this.repo.requeueDeferred(due.map((d) => d.id));
    const stale = await this.repo.staleQueued(
      cluster,
      new Date(nowMs - REQUEUE_AFTER_MS),
      due.map((d) => d.id),
    );
    // A delivery's round is its number of attempts so far: the same job id on every re-enqueue.
    if (!(await this.queue.enqueueAll(stale.map((d) => ({ deliveryId: d.id, round: d.attempts })))))
      this.logger.debug('alert queue unavailable; requeue retried next tick');
  }
}
