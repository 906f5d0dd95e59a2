// The evaluation loop: every SLUICE_ALERT_EVAL_INTERVAL_MS the leader (LeaderElection: one
// control plane per cluster holds the PostgreSQL advisory lock) evaluates every enabled rule on
// every query it applies to, moves each (rule, query) alert through Prometheus' lifecycle
// (`step`), stores the alerts that changed with one AlertTransition row per change, refreshes
// the alerting metrics, and hands the result to the notification router.
//
// Alert state lives in PostgreSQL (the Alert row keeps activeAt, so a `for` timer survives a
// change of leader). The per-query history (Burrow's commit windows, SLO lag samples) is kept in
// memory and saved to AlertQueryHistory every HISTORY_SAVE_EVERY evaluations; a new leader loads
// it on its first evaluation, so it loses at most the observations since the last save.
//
// Cost at 1,000 queries × 16 partitions (BENCHMARKS.md has the profile): the pass shares the
// event loop with the API, so it gives way every SLICE_MS of work; its writes are a few
// set-based statements (alert-writes.ts); the gauges are set only where a value changed
// (gauge-sync.ts); Burrow's status is computed once per query; the lag is the lag poll's.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
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
  consumerStatusOf,
  DEFAULT_WINDOW_SIZE,
  evaluateRule,
  INACTIVE,
  QueryHistory,
  renderTemplate,
  step,
  type AlertState,
  type AnyRuleDefinition,
  type Figures,
  type HistoryOptions,
  type QuerySnapshot,
} from '@sluice/alerting';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { AlertRule } from '../generated/prisma/client';
import type { LagReading } from '../lag/lag.service';
import { LeaderElection } from '../leadership/leader-election.service';
import { AlertMetrics } from '../metrics/alert-metrics';
import { PrismaRepository } from '../repositories/prisma.repository';
import { emptyWrites, writeStatements, type AlertWrites } from './alert-writes';
import { GaugeSync } from './gauge-sync';
import { LagSource } from './lag-source';
import { NotificationRouter } from './notification-router.service';
import { definitionOf } from './rule-row';

const INTERVAL_NAME = 'alert-evaluation';
/** Kinds whose condition needs the lag: without a fresh reading their alerts keep their state. */
const LAG_KINDS = new Set(['timeLag', 'recordsLag', 'consumerStatus', 'sloBurn']);
const PHASES = ['PENDING', 'DEPLOYING', 'RUNNING', 'STOPPED', 'DEGRADED', 'FAILED'];
/** The API shares this event loop: the pass never holds it longer than this before giving way. */
const SLICE_MS = 4;
/** The histories are saved every this many evaluations (once a minute at the default 10 s). */
const HISTORY_SAVE_EVERY = 6;
/** Histories per save statement. */
const HISTORY_CHUNK = 200;
/** Changed alerts written per transaction (each a handful of set-based statements). */
const WRITE_CHUNK = 2000;
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** Gives the event loop a turn once SLICE_MS of work has run since the last one. */
class Slicer {
  private last = performance.now();
  due(): boolean {
    return performance.now() - this.last >= SLICE_MS;
  }
  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.last = performance.now();
  }
}

/** The columns of Query the evaluation reads. */
const QUERY_COLUMNS = {
  id: true,
  name: true,
  phase: true,
  desiredState: true,
  lastProgressAt: true,
  conditions: true,
  crashTimes: true,
} as const;
interface QueryRow {
  id: string;
  name: string;
  phase: string;
  desiredState: string;
  lastProgressAt: Date | null;
  conditions: unknown;
  crashTimes: unknown;
}
const ALERT_COLUMNS = {
  id: true,
  ruleId: true,
  queryId: true,
  queryName: true,
  state: true,
  activeAt: true,
  firedAt: true,
  resolvedAt: true,
  value: true,
  figures: true,
} as const;
interface AlertRow {
  id: string;
  ruleId: string;
  queryId: string;
  queryName: string;
  state: string;
  activeAt: Date | null;
  firedAt: Date | null;
  resolvedAt: Date | null;
  value: number | null;
  figures: unknown;
}

export interface TickResult {
  readonly queries: number;
  readonly evaluations: number;
  readonly transitions: number;
  /** Where the pass spent its time (ms): read, snapshots, rules, writes, gauges, route. */
  readonly phasesMs: Readonly<Record<string, number>>;
}

interface Snapshot {
  snap: QuerySnapshot;
  lagKnown: boolean;
}

@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertEvaluator.name);
  private readonly histories = new Map<string, QueryHistory>();
  /** When the lag reading last fed into each query's history: a reading is observed once. */
  private readonly observedAt = new Map<string, number>();
  private readonly gauges: {
    alerts: GaugeSync<'state' | 'rule' | 'query'>;
    consumerStatus: GaugeSync<'query' | 'topic' | 'partition'>;
    queryPhase: GaugeSync<'query' | 'phase'>;
    recentCrashes: GaugeSync<'query'>;
    lastProgress: GaugeSync<'query'>;
  };
  private inFlight: Promise<unknown> = Promise.resolve();
  private ticking = false;
  /** Whether this leadership loaded the stored histories yet. */
  private loaded = false;
  /** Histories observed since the last save, and evaluations since then. */
  private readonly dirty = new Set<string>();
  private sinceSave = 0;

  constructor(
    private readonly prisma: PrismaRepository,
    private readonly lag: LagSource,
    private readonly router: NotificationRouter,
    private readonly metrics: AlertMetrics,
    private readonly leadership: LeaderElection,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.gauges = {
      alerts: new GaugeSync(metrics.alerts),
      consumerStatus: new GaugeSync(metrics.consumerStatus),
      queryPhase: new GaugeSync(metrics.queryPhase),
      recentCrashes: new GaugeSync(metrics.recentCrashes),
      lastProgress: new GaugeSync(metrics.lastProgress),
    };
  }

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
    this.observedAt.clear();
    this.dirty.clear();
    this.loaded = false;
    for (const g of Object.values(this.gauges)) g.clear();
  }

  /** One evaluation of every rule on every query; a pass still under way makes this a no-op. */
  async tick(nowMs = Date.now()): Promise<TickResult | undefined> {
    if (this.ticking) return undefined;
    this.ticking = true;
    const end = this.metrics.evaluationSeconds.startTimer();
    try {
      const phasesMs: Record<string, number> = {};
      const result = await this.evaluate(nowMs, phasesMs);
      const t = performance.now();
      await this.router.route(nowMs);
      phasesMs.route = Math.round(performance.now() - t);
      this.logger.debug(`alert evaluation: ${JSON.stringify({ ...result, phasesMs })}`);
      return { ...result, phasesMs };
    } catch (e) {
      this.logger.warn(`alert evaluation failed (next tick retries): ${(e as Error).message}`);
      return undefined;
    } finally {
      end();
      this.ticking = false;
    }
  }

  private async evaluate(
    nowMs: number,
    phasesMs: Record<string, number>,
  ): Promise<Omit<TickResult, 'phasesMs'>> {
    let t = performance.now();
    const lap = (name: string) => {
      const n = performance.now();
      phasesMs[name] = Math.round(n - t);
      t = n;
    };
    const slicer = new Slicer();
    const inScope = { OR: [{ cluster: null }, { cluster: this.config.SLUICE_CLUSTER_NAME }] };
    const [rules, queries, alerts] = await Promise.all([
      this.prisma.alertRule.findMany({ where: { enabled: true, ...inScope } }),
      this.prisma.query.findMany({ where: { deletedAt: null }, select: QUERY_COLUMNS }) as Promise<
        QueryRow[]
      >,
      // Only this cluster's rules' alerts: another cluster's leader on the same database owns its own.
      this.prisma.alert.findMany({ where: { rule: inScope }, select: ALERT_COLUMNS }) as Promise<AlertRow[]>,
    ]);
    const running = queries.filter((q) => q.desiredState === 'RUNNING');
    const lags = await this.lag.lagOf(running.map((q) => q.id));
    const options = historyOptions(rules);
    if (!this.loaded) await this.loadHistories(options);
    lap('read');

    const snapshots = new Map<string, Snapshot>();
    const live = new Set(queries.map((q) => q.id));
    for (const id of this.histories.keys()) {
      if (live.has(id)) continue;
      this.histories.delete(id);
      this.observedAt.delete(id);
    }
    for (const q of queries) {
      snapshots.set(q.id, this.snapshot(q, lags.get(q.id), options));
      if (slicer.due()) await slicer.yield();
    }
    lap('snapshots');

    const ruleById = new Map(rules.map((r) => [r.id, r]));
    const queryById = new Map(queries.map((q) => [q.id, q]));
    const byKey = new Map(alerts.map((a) => [`${a.ruleId}/${a.queryId}`, a]));
    /** What each alert is after this pass, for the alerts gauge. */
    const after = new Map<string, { state: string; rule: string; query: string }>();
    for (const a of alerts) {
      const rule = ruleById.get(a.ruleId);
      if (rule)
        after.set(`${a.ruleId}/${a.queryId}`, { state: a.state, rule: rule.name, query: a.queryName });
    }
    const seen = new Set<string>();
    const writes = emptyWrites();
    let evaluations = 0;
    let transitions = 0;
    const note = (rule: AlertRule, key: string, queryName: string, phase: string) => {
      if (phase === 'inactive') after.delete(key);
      else after.set(key, { state: phase, rule: rule.name, query: queryName });
    };
    for (const rule of rules) {
      const def = definitionOf(rule);
      const names = new Set(rule.queries);
      for (const q of queries) {
        if (slicer.due()) await slicer.yield();
        if (names.size > 0 && !names.has(q.name)) continue;
        const key = `${rule.id}/${q.id}`;
        seen.add(key);
        const { snap, lagKnown } = snapshots.get(q.id)!;
        const existing = byKey.get(key);
        // No lag reading this tick: no evidence either way, the alert keeps its state.
        if (LAG_KINDS.has(rule.kind) && !lagKnown && q.desiredState === 'RUNNING') continue;
        evaluations++;
        const ev = evaluateRule(def, snap, nowMs);
        if (ev.unknown) continue;
        const active = ev.active && (q.desiredState === 'RUNNING' || rule.kind === 'queryHealth');
        const r = step(stateOf(existing), active, nowMs, { name: rule.name, forMs: rule.forSeconds * 1000 });
        if (r.transition === 'none') continue;
        transitions++;
        this.persist(
          writes,
          rule,
          def,
          q.id,
          q.name,
          existing,
          r.state,
          r.transition,
          ev.value,
          ev.figures,
          nowMs,
        );
        note(rule, key, q.name, r.state.phase);
      }
    }
    // Alerts whose rule was disabled/deleted or whose query is gone: resolve what fired, drop the rest.
    for (const a of alerts) {
      const key = `${a.ruleId}/${a.queryId}`;
      if (seen.has(key)) continue;
      const rule = ruleById.get(a.ruleId);
      const r = step(stateOf(a), false, nowMs, { name: rule?.name ?? '', forMs: 0 });
      if (r.transition === 'none') continue;
      transitions++;
      if (!rule) {
        writes.deletes.push(a.id);
        after.delete(key);
        continue;
      }
      const q = queryById.get(a.queryId);
      const figures = a.figures as Figures;
      this.persist(
        writes,
        rule,
        definitionOf(rule),
        a.queryId,
        q?.name ?? a.queryName,
        a,
        r.state,
        r.transition,
        a.value,
        figures,
        nowMs,
      );
      note(rule, key, q?.name ?? a.queryName, r.state.phase);
    }
    lap('rules');
    await this.write(writes);
    lap('writes');
    await this.updateGauges(queries, snapshots, after, nowMs, slicer);
    lap('gauges');
    if (++this.sinceSave >= HISTORY_SAVE_EVERY) {
      await this.saveHistories(live, slicer);
      this.sinceSave = 0;
      lap('saveHistories');
    }
    return { queries: queries.length, evaluations, transitions };
  }

  /** A new leader continues the histories the previous one saved (its own observations win). */
  private async loadHistories(options: HistoryOptions): Promise<void> {
    const rows = await this.prisma.alertQueryHistory.findMany();
    for (const row of rows) {
      if (this.histories.has(row.queryId)) continue;
      this.histories.set(row.queryId, QueryHistory.fromState(options, row.state));
      const observedAtMs = (row.state as { observedAtMs?: unknown }).observedAtMs;
      if (typeof observedAtMs === 'number') this.observedAt.set(row.queryId, observedAtMs);
    }
    this.loaded = true;
  }

  /** Saves the histories observed since the last save (set-based, in chunks) and drops the rows
   * of queries that are gone. */
  private async saveHistories(live: ReadonlySet<string>, slicer: Slicer): Promise<void> {
    const ids = [...this.dirty].filter((id) => this.histories.has(id));
    this.dirty.clear();
    const savedAt = new Date().toISOString();
    for (let i = 0; i < ids.length; i += HISTORY_CHUNK) {
      const rows = ids.slice(i, i + HISTORY_CHUNK).map((queryId) => ({
        queryId,
        state: {
          ...this.histories.get(queryId)!.toState(),
          observedAtMs: this.observedAt.get(queryId) ?? null,
        },
        savedAt,
      }));
      await this.prisma.$executeRawUnsafe(
        `INSERT INTO "AlertQueryHistory" ("queryId", "state", "savedAt")
         SELECT "queryId", "state", "savedAt"
         FROM jsonb_to_recordset($1::jsonb) AS x("queryId" uuid, "state" jsonb, "savedAt" timestamp(3))
         ON CONFLICT ("queryId") DO UPDATE SET "state" = EXCLUDED."state", "savedAt" = EXCLUDED."savedAt"`,
        JSON.stringify(rows),
      );
      if (slicer.due()) await slicer.yield();
    }
    await this.prisma.$executeRawUnsafe(
      `DELETE FROM "AlertQueryHistory" WHERE NOT ("queryId" = ANY($1::uuid[]))`,
      [...live],
    );
  }

  /** One transaction per chunk: an alert's row and its transition are always written together. */
  private async write(w: AlertWrites): Promise<void> {
    const byAlert = new Map<string, AlertWrites>();
    let chunk = emptyWrites();
    const chunks = [chunk];
    let size = 0;
    const next = () => {
      if (size < WRITE_CHUNK) return;
      chunk = emptyWrites();
      chunks.push(chunk);
      size = 0;
    };
    for (const u of w.upserts) {
      next();
      chunk.upserts.push(u);
      byAlert.set(u.id, chunk);
      size++;
    }
    for (const id of w.deletes) {
      next();
      chunk.deletes.push(id);
      byAlert.set(id, chunk);
      size++;
    }
    for (const tr of w.transitions) (byAlert.get(tr.alertId) ?? chunk).transitions.push(tr);
    for (const c of chunks) {
      const statements = writeStatements(this.prisma, c);
      if (statements.length > 0) await this.prisma.$transaction(statements);
    }
  }

  private snapshot(q: QueryRow, lag: LagReading | undefined, options: HistoryOptions): Snapshot {
    let history = this.histories.get(q.id);
    if (!history) {
      history = new QueryHistory(options);
      this.histories.set(q.id, history);
    } else {
      history.reconfigure(options);
    }
    const lastProgressAtMs = q.lastProgressAt?.getTime() ?? null;
    // The lag poll's reading may be the one already observed (it polls every 5 s): observing it
    // again would record a commit that did not move (a false STALL).
    if (lag && lag.readAtMs > (this.observedAt.get(q.id) ?? -Infinity)) {
      history.observe(lag.readAtMs, lastProgressAtMs, lag.partitions);
      this.observedAt.set(q.id, lag.readAtMs);
      this.dirty.add(q.id);
    }
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
        desiredState: q.desiredState as QuerySnapshot['desiredState'],
        message: failed?.message ?? null,
        lastProgressAtMs,
        crashTimesMs: ((q.crashTimes as string[] | null) ?? [])
          .map((t) => Date.parse(t))
          .filter(Number.isFinite),
        partitions: (lag?.partitions ?? []).map((p) => ({
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
    writes: AlertWrites,
    rule: AlertRule,
    def: AnyRuleDefinition,
    queryId: string,
    queryName: string,
    existing: AlertRow | undefined,
    state: AlertState,
    transition: string,
    value: number | null,
    figures: Figures,
    nowMs: number,
  ): void {
    const from = existing?.state ?? 'inactive';
    const id = existing?.id ?? randomUUID();
    writes.transitions.push({
      alertId: id,
      ruleName: rule.name,
      queryName,
      from,
      to: state.phase,
      value,
      figures,
      at: new Date(nowMs).toISOString(),
    });
    if (state.phase === 'inactive') {
      writes.deletes.push(id);
      return;
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
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    writes.upserts.push({
      id,
      ruleId: rule.id,
      queryId,
      queryName,
      state: state.phase,
      activeAt: iso(state.activeAtMs),
      firedAt: iso(state.firedAtMs),
      resolvedAt: iso(state.resolvedAtMs),
      value,
      figures,
      labels,
      annotations,
      newEpisode: transition === 'pending' || (transition === 'firing' && from !== 'pending'),
    });
  }

  private async updateGauges(
    queries: readonly QueryRow[],
    snapshots: Map<string, Snapshot>,
    after: Map<string, { state: string; rule: string; query: string }>,
    nowMs: number,
    slicer: Slicer,
  ): Promise<void> {
    const g = this.gauges;
    for (const q of queries) {
      if (slicer.due()) await slicer.yield();
      const { snap } = snapshots.get(q.id)!;
      g.queryPhase.group(q.name, q.phase, () =>
        PHASES.map((phase) => [phase, { query: q.name, phase }, q.phase === phase ? 1 : 0]),
      );
      g.recentCrashes.set(
        q.name,
        { query: q.name },
        snap.crashTimesMs.filter((t) => nowMs - t <= 600_000).length,
      );
      if (snap.lastProgressAtMs !== null)
        g.lastProgress.set(q.name, { query: q.name }, snap.lastProgressAtMs / 1000);
      if (snap.commits.length === 0) continue;
      // Burrow's status over its default window (10 commits, as the default rules use): the same
      // computation the rules made, memoised per snapshot.
      const status = consumerStatusOf(snap, nowMs, { windowSize: DEFAULT_WINDOW_SIZE });
      let signature = '';
      for (const p of status.partitions) signature += `${p.topic}/${p.partition}=${p.status};`;
      g.consumerStatus.group(q.name, signature, () =>
        status.partitions.map((p) => {
          const partition = String(p.partition);
          return [
            `${p.topic}\u0000${partition}`,
            { query: q.name, topic: p.topic, partition },
            CONSUMER_STATUS_VALUE[p.status],
          ];
        }),
      );
    }
    for (const a of after.values()) {
      g.alerts.set(
        `${a.state}\u0000${a.rule}\u0000${a.query}`,
        { state: a.state, rule: a.rule, query: a.query },
        1,
      );
    }
    for (const s of Object.values(g)) s.commit();
  }
}

function stateOf(a: AlertRow | undefined): AlertState {
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
