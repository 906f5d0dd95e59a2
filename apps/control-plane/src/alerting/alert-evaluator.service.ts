// The evaluation loop: every SLUICE_ALERT_EVAL_INTERVAL_MS the leader (LeaderElection: one
// control plane per cluster holds the PostgreSQL advisory lock) evaluates every enabled rule on
// every query it applies to, moves each (rule, query) alert through Prometheus' lifecycle
// (`step`), stores the alerts that changed with one AlertTransition row per change, refreshes
// the alerting metrics, and hands the result to the notification router.
//
// Alert state lives in PostgreSQL (the Alert row keeps activeAt, so a `for` timer survives a
// change of leader). The per-query history (Burrow's commit windows, SLO lag samples) is kept in
// memory and saved to AlertQueryHistory, a share of the queries every evaluation so that each is
// saved every HISTORY_SAVE_EVERY evaluations; a new leader loads them on its first evaluation, so it
// loses at most the observations since the last save.
//
// Cost at 1,000 queries × 16 partitions (BENCHMARKS.md has the profile): the computation (the
// histories, every rule on every query, the gauges' values) runs in a worker thread
// (evaluation-thread.ts, evaluation-core.ts) that keeps its own copy of the rules, queries, alerts
// and lag readings; a tick is incremental end to end: this thread reads short version rows, then
// the full rows only of what changed (alert-evaluation.repository.ts), sends the thread only those
// rows, the ids that went and the lag readings it has not seen (alert-mirror.ts, query-mirror.ts,
// lag-mirror.ts), gets back only the gauges that changed, writes in a few set-based statements
// (alert-writes.ts) and sets the gauges only where a value changed (gauge-sync.ts; the
// per-partition consumer status as plain values, without prom-client's label hashing:
// metrics/consumer-status-metric.ts), giving the event loop a turn every SLICE_MS; the lag is the
// lag poll's. The main thread's young generation is emptied just before each slot
// (pre-slot-collection.ts), so the evaluation's garbage is not collected inside it.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LeaderElection } from '../leadership/leader-election.service';
import { clusterName } from '../leadership/cluster-name';
import { AlertMetrics } from '../metrics/alert-metrics';
import { clusterScope } from './cluster-scope';
import { emptyWrites, type AlertWrites } from './alert-writes';
import { AlertMirror } from './alert-mirror';
import {
  AlertEvaluationRepository,
  type AlertVersionRow,
  type QueryVersionRow,
} from './alert-evaluation.repository';
import type { EvaluationOutput, QueryGauges } from './evaluation-messages';
import { nextSlot, slotRun } from './evaluation-slots';
import { EvaluationThread } from './evaluation-thread';
import { GaugeSync } from './gauge-sync';
import { idleCollectionDelayMs } from './idle-collection';
import { LagMirror } from './lag-mirror';
import { LagSource } from './lag-source';
import { NotificationRouter } from './notification-router.service';
import { packLags } from './packed-lags';
import { PlannerStatistics } from './planner-statistics';
import { PreSlotCollection } from './pre-slot-collection';
import { ProgressMirror } from './progress-mirror';
import { QueryMirror } from './query-mirror';
import { VersionBuckets } from './version-buckets';

const TIMER_NAME = 'alert-evaluation';
const PHASES = ['PENDING', 'DEPLOYING', 'RUNNING', 'STOPPED', 'DEGRADED', 'FAILED'];
/** The API shares this event loop: the pass never holds it longer than this before giving way. */
const SLICE_MS = 4;
/** Each history is saved every this many evaluations (once a minute at the default 10 s). */
const HISTORY_SAVE_EVERY = 6;
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

export interface TickResult {
  readonly queries: number;
  readonly evaluations: number;
  readonly transitions: number;
  /** Notification groups the router decided (every group, or those changed or due). */
  readonly routedGroups: number;
  /** Where the pass spent its time (ms): read, snapshots, rules, writes, gauges, route. */
  readonly phasesMs: Readonly<Record<string, number>>;
}

@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertEvaluator.name);
  private readonly thread: EvaluationThread;
  // What the thread holds (only what changed goes over): alert rows, queries, lag readings, rules
  // (by their JSON), and the gauge values it reported.
  private readonly mirror = new AlertMirror();
  private readonly queryMirror = new QueryMirror();
  private readonly lagMirror = new LagMirror();
  private readonly progressMirror = new ProgressMirror();
  private sentRules: string | undefined;
  // The version rows as last read, by bucket: a tick reads only the buckets that changed.
  private readonly queryBuckets = new VersionBuckets<QueryVersionRow>();
  private readonly alertBuckets = new VersionBuckets<AlertVersionRow>();
  private readonly gaugeValues = new Map<string, QueryGauges>();
  private readonly statistics = new PlannerStatistics();
  /** The main thread's young generation emptied before each slot this process evaluates. */
  private readonly preSlot = new PreSlotCollection();
  /** False until a hand-over since the last reset succeeded: the next one is then a full one. */
  private inSync = false;
  private readonly gauges: {
    alerts: GaugeSync<'state' | 'rule' | 'query'>;
    queryPhase: GaugeSync<'query' | 'phase'>;
    recentCrashes: GaugeSync<'query'>;
    lastProgress: GaugeSync<'query'>;
  };
  private inFlight: Promise<unknown> = Promise.resolve();
  private ticking = false;
  /** The last evaluation slot whose timer fired (evaluation-slots.ts); undefined before the first. */
  private lastSlotMs: number | undefined;
  private stopped = false;
  /** Whether this process evaluated since it last was (or became) a follower. */
  private evaluated = false;
  /** Evaluations since the saved histories of deleted queries were last dropped. */
  private sinceSave = 0;
  /**
   * The histories' save under way. It runs beside the evaluations (no alert waits for it: the
   * histories are only a new leader's starting point); while it runs, no new histories are asked
   * for, so a slow database delays saves instead of queueing them.
   */
  private saving: Promise<void> | undefined;
  /** How long the last save took (ms), reported with the next evaluations' phases. */
  private lastSaveMs = 0;

  constructor(
    private readonly repo: AlertEvaluationRepository,
    private readonly lag: LagSource,
    private readonly router: NotificationRouter,
    private readonly metrics: AlertMetrics,
    private readonly leadership: LeaderElection,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // The worker's prebuilt bundle (run from source) is kept in the control plane's home.
    this.thread = new EvaluationThread(path.resolve(config.SLUICE_HOME, 'build', 'workers'));
    this.gauges = {
      alerts: new GaugeSync(metrics.alerts),
      queryPhase: new GaugeSync(metrics.queryPhase),
      recentCrashes: new GaugeSync(metrics.recentCrashes),
      lastProgress: new GaugeSync(metrics.lastProgress),
    };
  }

  onApplicationBootstrap(): void {
    this.scheduleSlot();
  }

  /**
   * Evaluations run at the start of each slot of the interval (evaluation-slots.ts says why), one
   * timer at a time: a timer per slot, not a `setInterval`, whose ticks drift from the grid.
   */
  private scheduleSlot(): void {
    if (this.stopped) return;
    const intervalMs = this.config.SLUICE_ALERT_EVAL_INTERVAL_MS;
    const now = Date.now();
    const slot = nextSlot(this.lastSlotMs, now, intervalMs);
    const timer = setTimeout(() => {
      this.scheduler.deleteTimeout(TIMER_NAME);
      this.lastSlotMs = slotRun(slot, Date.now(), intervalMs);
      // A pass still under way is what onModuleDestroy waits for: never replace it.
      if (!this.ticking) {
        if (this.leadership.isLeader) this.inFlight = this.tick(Date.now(), this.lastSlotMs);
        else if (this.evaluated) this.inFlight = this.forget();
      }
      this.scheduleSlot();
    }, slot - now);
    timer.unref();
    this.scheduler.addTimeout(TIMER_NAME, timer);
    this.preSlot.scheduleBefore(slot, () => this.leadership.isLeader && !this.ticking);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.preSlot.cancel();
    if (this.scheduler.doesExist('timeout', TIMER_NAME)) this.scheduler.deleteTimeout(TIMER_NAME);
    await this.inFlight;
    await this.saving;
    await this.thread.close();
  }

  /** A follower drops what it observed and the gauges only the leader keeps. */
  private async forget(): Promise<void> {
    if (this.ticking) return;
    await this.saving;
    this.evaluated = false;
    this.sinceSave = 0;
    this.resetMirrors();
    this.router.reset();
    for (const g of Object.values(this.gauges)) g.clear();
    this.metrics.consumerStatus.reset();
    await this.thread.forget().catch((e: Error) => this.logger.warn(`alert evaluation thread: ${e.message}`));
  }

  /** The next evaluation hands the thread everything (it starts from nothing). */
  private resetMirrors(): void {
    this.mirror.reset();
    this.queryMirror.reset();
    this.lagMirror.reset();
    this.progressMirror.reset();
    this.queryBuckets.reset();
    this.alertBuckets.reset();
    this.sentRules = undefined;
    this.gaugeValues.clear();
    this.statistics.reset();
    this.inSync = false;
  }

  /**
   * One evaluation of every rule on every query; a pass still under way makes this a no-op.
   * `slotMs` is the time the alerts' lifecycle (`for`, activeAt, firedAt, resolvedAt) is measured
   * in: the evaluation's slot when the timer runs it, `nowMs` when called directly.
   */
  async tick(nowMs = Date.now(), slotMs = nowMs): Promise<TickResult | undefined> {
    if (this.ticking) return undefined;
    this.ticking = true;
    const end = this.metrics.evaluationSeconds.startTimer();
    try {
      const phasesMs: Record<string, number> = {};
      const { changedQueries, ...result } = await this.evaluate(nowMs, slotMs, phasesMs);
      const t = performance.now();
      const routePhases: Record<string, number> = {};
      const routed = await this.router.route(nowMs, changedQueries, routePhases);
      phasesMs.route = Math.round(performance.now() - t);
      for (const [k, v] of Object.entries(routePhases)) phasesMs[`route.${k}`] = v;
      const out = { ...result, routedGroups: routed.groups, phasesMs };
      this.logger.debug(`alert evaluation: ${JSON.stringify(out)}`);
      return out;
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
    slotMs: number,
    phasesMs: Record<string, number>,
  ): Promise<Omit<TickResult, 'phasesMs' | 'routedGroups'> & { changedQueries: Set<string> }> {
    let t = performance.now();
    const lap = (name: string) => {
      const n = performance.now();
      phasesMs[name] = Math.round(n - t);
      t = n;
    };
    const slicer = new Slicer();
    // The read's own steps (versions, details, alert rows, lag), beside the phases.
    let r = t;
    const readLap = (name: string) => {
      const n = performance.now();
      phasesMs[`read.${name}`] = Math.round(n - r);
      r = n;
    };
    const cluster = clusterName(this.config);
    // Version rows of the buckets that changed since the last read, the rest as held (version-buckets.ts).
    const [rules, live, alertVersions, progressRows] = await Promise.all([
      this.repo.rules(cluster),
      this.repo.queryVersionBuckets(this.queryBuckets.known()).then((b) => this.queryBuckets.apply(b)),
      this.repo
        .alertVersionBuckets(cluster, this.alertBuckets.known())
        .then((b) => this.alertBuckets.apply(b)),
      this.repo.progressStamps(),
    ]);
    const progress = new Map<string, number>();
    for (const p of progressRows) progress.set(p.id, p.atMs);
    // Only this cluster's queries and the alerts on them: another cluster's leader evaluates its own
    // (a rule with no cluster included), so neither reads nor writes the other's.
    readLap('versions');
    const { queries: scoped, alerts: alertRows, foreign } = clusterScope(cluster, live, alertVersions);
    // A new thread (or a new leadership) continues from the histories the last leader saved, and
    // gets everything (its copies start empty); so does a thread after a failed hand-over (it may
    // have applied part of it).
    const needsStored = this.thread.needsStoredHistories;
    if (needsStored) this.resetMirrors();
    const full = !this.inSync;
    const [details, stored] = await Promise.all([
      this.repo.queryDetails(this.queryMirror.missingDetails(scoped)),
      needsStored ? this.repo.storedHistories([...foreign.ids]) : undefined,
    ]);
    readLap('details');
    this.queryMirror.addDetails(details, scoped);
    const queryDiff = this.queryMirror.diff(scoped, progress);
    const progressDiff = this.progressMirror.diff(scoped, progress);
    const diff = this.mirror.diff(alertRows);
    const alertUpserts = await this.repo.alertRows(diff.changed.map((a) => a.id));
    readLap('alertRows');
    const running = scoped.filter((q) => q.desiredState === 'RUNNING');
    const lagDiff = this.lagMirror.diff(await this.lag.lagOf(running.map((q) => q.id)));
    const rulesJson = JSON.stringify(rules);
    readLap('lag');
    lap('read');

    const packed = packLags(lagDiff.fresh);
    // A share of the histories every tick: each is saved every HISTORY_SAVE_EVERY ticks.
    const saveHistories = this.saving ? 0 : Math.ceil(scoped.length / HISTORY_SAVE_EVERY);
    const input = {
      nowMs,
      lifecycleMs: slotMs,
      full,
      ...(full || rulesJson !== this.sentRules ? { rules } : {}),
      queries: { upserts: queryDiff.upserts, removed: queryDiff.removed },
      // Only the rows that changed: the thread keeps the others.
      alerts: { upserts: alertUpserts, removed: diff.removed },
      lags: packed,
      lagsGone: lagDiff.gone,
      ...(progressDiff.packed.ids.length > 0 ? { progress: progressDiff.packed } : {}),
      dashboardUrl: this.config.SLUICE_DASHBOARD_URL.replace(/\/$/, ''),
      ...(stored ? { stored } : {}),
      saveHistories,
      collectAfterMs: idleCollectionDelayMs(this.config.SLUICE_ALERT_EVAL_INTERVAL_MS),
    };
    const transfer = [
      packed.readAtMs.buffer,
      packed.start.buffer,
      packed.rows.buffer,
      ...(input.progress ? [input.progress.atMs.buffer] : []),
    ] as ArrayBuffer[];
    lap('prepare');
    let out: EvaluationOutput;
    try {
      out = await this.thread.evaluate(input, transfer);
    } catch (e) {
      // The thread may have applied part of the deltas: the next evaluation starts it afresh.
      this.resetMirrors();
      throw e;
    }
    diff.commit();
    queryDiff.commit();
    lagDiff.commit();
    progressDiff.commit();
    this.sentRules = rulesJson;
    this.inSync = true;
    for (const id of queryDiff.removed) this.gaugeValues.delete(id);
    for (const g of out.gauges) this.gaugeValues.set(g.queryId, g);
    this.evaluated = true;
    lap('compute');
    for (const [k, v] of Object.entries(out.phasesMs)) phasesMs[`compute.${k}`] = v;

    await this.write(out.writes);
    lap('writes');
    // Before the router reads: its plan depends on them (planner-statistics.ts).
    const stale = this.statistics.stale({
      queries: scoped.length,
      alertsBefore: alertRows.length,
      alertsWritten: out.writes.upserts.length + out.writes.deletes.length,
    });
    if (stale.length > 0) {
      await this.repo
        .analyze(stale)
        .catch((e: Error) => this.logger.warn(`ANALYZE ${stale.join(', ')} failed: ${e.message}`));
      lap('analyze');
    }
    await this.updateGauges(scoped, progress, out, slicer);
    lap('gauges');
    this.sinceSave++;
    if (!this.saving) {
      const drop = this.sinceSave >= HISTORY_SAVE_EVERY ? live.map((q) => q.id) : undefined;
      if (drop) this.sinceSave = 0;
      if (out.histories?.length || drop) {
        this.saving = this.saveHistories(out.histories ?? [], drop).finally(() => (this.saving = undefined));
      }
    }
    phasesMs.lastHistorySave = this.lastSaveMs;
    phasesMs.lastPreSlotCollection = this.preSlot.lastMs;
    // The groups to route: those whose alerts changed since the last read or in this pass.
    const changedQueries = diff.queries;
    for (const tr of out.writes.transitions) changedQueries.add(tr.queryName);
    return {
      queries: scoped.length,
      evaluations: out.evaluations,
      transitions: out.transitions,
      changedQueries,
    };
  }

  /** Saves the histories the thread returned; drops the saved ones of deleted queries (`drop`: the
   * live ids) when asked. A failure is logged: those histories are saved again once observed again. */
  private async saveHistories(chunks: readonly string[], drop: string[] | undefined): Promise<void> {
    const t = performance.now();
    try {
      for (const chunk of chunks) await this.repo.saveHistories(chunk, new Date());
      if (drop) await this.repo.dropHistoriesExcept(drop);
    } catch (e) {
      this.logger.warn(`saving the alert histories failed: ${(e as Error).message}`);
    } finally {
      this.lastSaveMs = Math.round(performance.now() - t);
    }
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
    for (const c of chunks) await this.repo.applyWrites(c);
  }

  private async updateGauges(
    queries: readonly QueryVersionRow[],
    progress: ReadonlyMap<string, number>,
    out: EvaluationOutput,
    slicer: Slicer,
  ): Promise<void> {
    const g = this.gauges;
    // Per partition: series rebuilt only for queries whose statuses changed (consumer-status-metric.ts).
    const statuses = this.metrics.consumerStatus;
    for (let i = 0; i < queries.length; i++) {
      if (slicer.due()) await slicer.yield();
      const q = queries[i]!;
      g.queryPhase.group(q.name, q.phase, () =>
        PHASES.map((phase) => [phase, { query: q.name, phase }, q.phase === phase ? 1 : 0]),
      );
      const progressedAtMs = progress.get(q.id);
      if (progressedAtMs !== undefined) g.lastProgress.set(q.name, { query: q.name }, progressedAtMs / 1000);
      // The thread reports a query's values when they change; one it has not evaluated yet (its
      // detail could not be read this tick) has none.
      const values = this.gaugeValues.get(q.id);
      if (!values) continue;
      const { recentCrashes, consumerStatus } = values;
      g.recentCrashes.set(q.name, { query: q.name }, recentCrashes);
      if (consumerStatus !== null) statuses.record(q.name, consumerStatus);
    }
    statuses.commit();
    const a = out.alertsAfter;
    for (let i = 0; i < a.length; i += 3) {
      const [state, rule, query] = [a[i]!, a[i + 1]!, a[i + 2]!];
      g.alerts.set(`${state}\u0000${rule}\u0000${query}`, { state, rule, query }, 1);
    }
    for (const s of Object.values(g)) s.commit();
  }
}
