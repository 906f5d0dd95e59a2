// The evaluation loop: every SLUICE_ALERT_EVAL_INTERVAL_MS the leader (LeaderElection: one
// control plane per cluster holds the PostgreSQL advisory lock) evaluates every enabled rule on
// every query it applies to, moves each (rule, query) alert through Prometheus' lifecycle
// (`step`), stores the alerts that changed with one AlertTransition row per change, refreshes
// the alerting metrics, and hands the result to the notification router.
//
// Alert state lives in PostgreSQL (the Alert row keeps activeAt, so a `for` timer survives a
// change of leader); what only this process knows is the per-query history (Burrow's commit
// windows, SLO lag samples), which a new leader rebuilds from its own observations.
import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  CONSUMER_STATUS_VALUE,
  consumerStatus,
  DEFAULT_WINDOW_SIZE,
  evaluateRule,
  INACTIVE,
  QueryHistory,
  renderTemplate,
  step,
  type AlertState,
  type AnyRuleDefinition,
  type HistoryOptions,
  type QuerySnapshot,
} from '@sluice/alerting';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Alert, AlertRule, Prisma, Query } from '../generated/prisma/client';
import type { PartitionLag } from '../lag/lag.service';
import { LeaderElection } from '../leadership/leader-election.service';
import { AlertMetrics } from '../metrics/alert-metrics';
import { PrismaRepository } from '../repositories/prisma.repository';
import { LagSource } from './lag-source';
import { NotificationRouter } from './notification-router.service';
import { definitionOf } from './rule-row';

const INTERVAL_NAME = 'alert-evaluation';
/** Kinds whose condition needs the lag: without a fresh reading their alerts keep their state. */
const LAG_KINDS = new Set(['timeLag', 'recordsLag', 'consumerStatus', 'sloBurn']);
const PHASES = ['PENDING', 'DEPLOYING', 'RUNNING', 'STOPPED', 'DEGRADED', 'FAILED'];
/** The API shares this event loop: a pass over 1,000 queries gives way this often. */
const YIELD_EVERY = 200;
/** Alerts written per transaction. */
const WRITE_CHUNK = 100;
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export interface TickResult {
  readonly queries: number;
  readonly evaluations: number;
  readonly transitions: number;
}

@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertEvaluator.name);
  private readonly histories = new Map<string, QueryHistory>();
  private inFlight: Promise<unknown> = Promise.resolve();
  private ticking = false;

  constructor(
    private readonly prisma: PrismaRepository,
    private readonly lag: LagSource,
    private readonly router: NotificationRouter,
    private readonly metrics: AlertMetrics,
    private readonly leadership: LeaderElection,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => {
      if (this.leadership.isLeader) this.inFlight = this.tick();
      else if (this.histories.size > 0) this.forget();
    }, this.config.SLUICE_ALERT_EVAL_INTERVAL_MS);
    timer.unref();
    this.scheduler.addInterval(INTERVAL_NAME, timer);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
    await this.inFlight;
  }

  /** A follower drops what it observed and the gauges only the leader keeps. */
  private forget(): void {
    this.histories.clear();
    for (const g of [this.metrics.alerts, this.metrics.consumerStatus, this.metrics.queryPhase]) g.reset();
    this.metrics.recentCrashes.reset();
    this.metrics.lastProgress.reset();
  }

  /** One evaluation of every rule on every query; a pass still under way makes this a no-op. */
  async tick(nowMs = Date.now()): Promise<TickResult | undefined> {
    if (this.ticking) return undefined;
    this.ticking = true;
    const end = this.metrics.evaluationSeconds.startTimer();
    try {
      const result = await this.evaluate(nowMs);
      await this.router.route(nowMs);
      return result;
    } catch (e) {
      this.logger.warn(`alert evaluation failed (next tick retries): ${(e as Error).message}`);
      return undefined;
    } finally {
      end();
      this.ticking = false;
    }
  }

  private async evaluate(nowMs: number): Promise<TickResult> {
    const [rules, queries, alerts] = await Promise.all([
      this.prisma.alertRule.findMany({
        where: { enabled: true, OR: [{ cluster: null }, { cluster: this.config.SLUICE_CLUSTER_NAME }] },
      }),
      this.prisma.query.findMany({ where: { deletedAt: null } }),
      this.prisma.alert.findMany(),
    ]);
    const running = queries.filter((q) => q.desiredState === 'RUNNING');
    const lags = await this.lag.lagOf(running.map((q) => q.id));
    const options = historyOptions(rules);
    const snapshots = new Map<string, { snap: QuerySnapshot; lagKnown: boolean }>();
    const live = new Set(queries.map((q) => q.id));
    for (const id of this.histories.keys()) if (!live.has(id)) this.histories.delete(id);
    let work = 0;
    for (const q of queries) {
      snapshots.set(q.id, this.snapshot(q, lags.get(q.id), nowMs, options));
      if (++work % YIELD_EVERY === 0) await yieldToEventLoop();
    }
    await this.updateQueryGauges(queries, snapshots, nowMs);

    const byKey = new Map(alerts.map((a) => [`${a.ruleId}/${a.queryId}`, a]));
    const seen = new Set<string>();
    const writes: Prisma.PrismaPromise<unknown>[][] = [];
    let evaluations = 0;
    let transitions = 0;
    for (const rule of rules) {
      const def = definitionOf(rule);
      const names = new Set(rule.queries);
      for (const q of queries) {
        if (names.size > 0 && !names.has(q.name)) continue;
        const key = `${rule.id}/${q.id}`;
        seen.add(key);
        const { snap, lagKnown } = snapshots.get(q.id)!;
        const existing = byKey.get(key);
        // No lag reading this tick: no evidence either way, the alert keeps its state.
        if (LAG_KINDS.has(rule.kind) && !lagKnown && q.desiredState === 'RUNNING') continue;
        evaluations++;
        if (evaluations % YIELD_EVERY === 0) await yieldToEventLoop();
        const ev = evaluateRule(def, snap, nowMs);
        if (ev.unknown) continue;
        const active = ev.active && (q.desiredState === 'RUNNING' || rule.kind === 'queryHealth');
        const r = step(stateOf(existing), active, nowMs, { name: rule.name, forMs: rule.forSeconds * 1000 });
        if (r.transition === 'none') continue;
        transitions++;
        writes.push(this.persist(rule, def, q, existing, r.state, r.transition, ev.value, ev.figures));
      }
    }
    // Alerts whose rule was disabled/deleted or whose query is gone: resolve what fired, drop the rest.
    for (const a of alerts) {
      if (seen.has(`${a.ruleId}/${a.queryId}`)) continue;
      const rule = rules.find((r) => r.id === a.ruleId);
      const r = step(stateOf(a), false, nowMs, { name: rule?.name ?? '', forMs: 0 });
      if (r.transition === 'none') continue;
      transitions++;
      if (!rule) {
        writes.push([this.prisma.alert.deleteMany({ where: { id: a.id } })]);
        continue;
      }
      const q = queries.find((x) => x.id === a.queryId);
      writes.push(
        this.persist(rule, definitionOf(rule), q ?? null, a, r.state, r.transition, a.value, a.figures),
      );
    }
    // One transaction per chunk of alerts (an alert's row and its transition always together):
    // when a thousand alerts change at once, the API keeps getting turns in between.
    for (let i = 0; i < writes.length; i += WRITE_CHUNK) {
      await this.prisma.$transaction(writes.slice(i, i + WRITE_CHUNK).flat());
      if (i + WRITE_CHUNK < writes.length) await yieldToEventLoop();
    }
    await this.updateAlertGauge();
    return { queries: queries.length, evaluations, transitions };
  }

  private snapshot(
    q: Query,
    lag: PartitionLag[] | undefined,
    nowMs: number,
    options: HistoryOptions,
  ): { snap: QuerySnapshot; lagKnown: boolean } {
    let history = this.histories.get(q.id);
    if (!history) {
      history = new QueryHistory(options);
      this.histories.set(q.id, history);
    } else {
      history.reconfigure(options);
    }
    const lastProgressAtMs = q.lastProgressAt?.getTime() ?? null;
    if (lag) history.observe(nowMs, lastProgressAtMs, lag);
    // The reason a FAILED query failed is in its conditions (the reconciler names the last crash).
    const failed = (q.conditions as Array<{ status?: string; message?: string }> | null)?.find(
      (c) => typeof c.message === 'string' && c.message !== '',
    );
    return {
      lagKnown: lag !== undefined,
      snap: {
        queryId: q.id,
        name: q.name,
        phase: q.phase,
        desiredState: q.desiredState,
        message: failed?.message ?? null,
        lastProgressAtMs,
        crashTimesMs: ((q.crashTimes as string[] | null) ?? [])
          .map((t) => Date.parse(t))
          .filter(Number.isFinite),
        partitions: (lag ?? []).map((p) => ({
          topic: p.topic,
          partition: p.partition,
          recordsBehind: p.recordsBehind,
          secondsBehind: p.secondsBehind,
        })),
        commits: history.commitWindows(),
        lagSamples: history.lagSamples(),
      },
    };
  }

  private persist(
    rule: AlertRule,
    def: AnyRuleDefinition,
    q: Query | null,
    existing: Alert | undefined,
    state: AlertState,
    transition: string,
    value: number | null,
    figures: unknown,
  ): Prisma.PrismaPromise<unknown>[] {
    const queryName = q?.name ?? existing?.queryName ?? '';
    const from = existing?.state ?? 'inactive';
    const id = existing?.id ?? randomUUID();
    const writes: Prisma.PrismaPromise<unknown>[] = [
      this.prisma.alertTransition.create({
        data: {
          alertId: id,
          ruleName: rule.name,
          queryName,
          from,
          to: state.phase,
          value,
          figures: figures as Prisma.InputJsonValue,
        },
      }),
    ];
    if (state.phase === 'inactive') {
      writes.push(this.prisma.alert.deleteMany({ where: { id } }));
      return writes;
    }
    const labels: Record<string, string> = {
      ...(rule.labels as Record<string, string>),
      alertname: rule.name,
      query: queryName,
      severity: rule.severity,
    };
    const context = {
      labels,
      value: value ?? '',
      figures: figures as Record<string, string | number | null>,
      forSeconds: rule.forSeconds,
      dashboardUrl: this.config.SLUICE_DASHBOARD_URL.replace(/\/$/, ''),
    };
    const annotations = Object.fromEntries(
      Object.entries(def.annotations).map(([k, t]) => [k, renderTemplate(String(t), context)]),
    );
    const newEpisode = transition === 'pending' || (transition === 'firing' && from !== 'pending');
    const data = {
      state: state.phase,
      activeAt: state.activeAtMs === null ? null : new Date(state.activeAtMs),
      firedAt: state.firedAtMs === null ? null : new Date(state.firedAtMs),
      resolvedAt: state.resolvedAtMs === null ? null : new Date(state.resolvedAtMs),
      value,
      figures: figures as Prisma.InputJsonValue,
      labels,
      annotations,
      // A new episode is not acknowledged by the acknowledgement of the previous one.
      ...(newEpisode ? { acknowledgedAt: null, acknowledgedBy: null, ackComment: null } : {}),
    };
    writes.push(
      this.prisma.alert.upsert({
        where: { id },
        create: { id, ruleId: rule.id, queryId: q?.id ?? existing!.queryId, queryName, ...data },
        update: data,
      }),
    );
    return writes;
  }

  private async updateQueryGauges(
    queries: readonly Query[],
    snapshots: Map<string, { snap: QuerySnapshot; lagKnown: boolean }>,
    nowMs: number,
  ): Promise<void> {
    const m = this.metrics;
    m.consumerStatus.reset();
    m.queryPhase.reset();
    m.recentCrashes.reset();
    m.lastProgress.reset();
    let work = 0;
    for (const q of queries) {
      if (++work % YIELD_EVERY === 0) await yieldToEventLoop();
      const { snap } = snapshots.get(q.id)!;
      for (const phase of PHASES) m.queryPhase.set({ query: q.name, phase }, q.phase === phase ? 1 : 0);
      m.recentCrashes.set({ query: q.name }, snap.crashTimesMs.filter((t) => nowMs - t <= 600_000).length);
      if (snap.lastProgressAtMs !== null) m.lastProgress.set({ query: q.name }, snap.lastProgressAtMs / 1000);
      if (snap.commits.length === 0) continue;
      // Burrow's status over its default window (10 commits, as the default rules use).
      const status = consumerStatus({ partitions: snap.commits, nowMs }, { windowSize: DEFAULT_WINDOW_SIZE });
      for (const p of status.partitions) {
        m.consumerStatus.set(
          { query: q.name, topic: p.topic, partition: String(p.partition) },
          CONSUMER_STATUS_VALUE[p.status],
        );
      }
    }
  }

  private async updateAlertGauge(): Promise<void> {
    const rows = await this.prisma.alert.findMany({
      select: { state: true, queryName: true, rule: { select: { name: true } } },
    });
    this.metrics.alerts.reset();
    for (const r of rows) this.metrics.alerts.inc({ state: r.state, rule: r.rule.name, query: r.queryName });
  }
}

function stateOf(a: Alert | undefined): AlertState {
  if (!a) return INACTIVE;
  return {
    phase: a.state as AlertState['phase'],
    activeAtMs: a.activeAt?.getTime() ?? null,
    firedAtMs: a.firedAt?.getTime() ?? null,
    resolvedAtMs: a.resolvedAt?.getTime() ?? null,
  };
}

function historyOptions(rules: readonly AlertRule[]): HistoryOptions {
  let windowSize = 10;
  let retentionMs = 3600_000;
  const objectives: number[] = [];
  for (const r of rules) {
    const p = r.params as Record<string, number>;
    if (r.kind === 'consumerStatus') windowSize = Math.max(windowSize, p.windowSize ?? 10);
    if (r.kind === 'sloBurn') {
      retentionMs = Math.max(retentionMs, (p.longWindowSeconds ?? 0) * 1000);
      objectives.push(p.maxLagSeconds ?? 0);
    }
  }
  return { windowSize, sampleRetentionMs: retentionMs, objectives };
}
