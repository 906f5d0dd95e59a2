// One share's evaluation pipeline (evaluation-shares.ts says why the queries are shared out): what
// the evaluator did for every query before, for the queries of one share. It keeps its own copies
// of what its core in the evaluation thread holds (the alert rows, queries, lag readings, rules,
// gauge values: alert-mirror.ts, query-mirror.ts, lag-mirror.ts), its own version buckets, its
// own gauge series, its own histories' save and planner statistics, so a pass reads, hands over,
// writes and exports only its share, and leaves the other shares' state alone.
//
// A pass is incremental end to end: it reads short version rows, then the full rows only of what
// changed (alert-evaluation.repository.ts), sends the thread only those rows, the ids that went
// and the lag readings it has not seen, gets back only the gauges that changed, writes in a few
// set-based statements (alert-writes.ts) and sets the gauges only where a value changed
// (gauge-sync.ts; the per-partition consumer status as plain values, without prom-client's label
// hashing: metrics/consumer-status-metric.ts), giving the event loop a turn every SLICE_MS.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { clusterName } from '../leadership/cluster-name';
import type { AlertMetrics } from '../metrics/alert-metrics';
import { clusterScope } from './cluster-scope';
import { emptyWrites, type AlertWrites } from './alert-writes';
import { AlertMirror } from './alert-mirror';
import type {
  AlertEvaluationRepository,
  AlertVersionRow,
  QueryVersionRow,
} from './alert-evaluation.repository';
import type { EvaluationOutput, QueryGauges } from './evaluation-messages';
import type { Share } from './evaluation-shares';
import { EvaluationThread } from './evaluation-thread';
import { GaugeSync } from './gauge-sync';
import { idleCollectionDelayMs } from './idle-collection';
import { LagMirror } from './lag-mirror';
import type { LagSource } from './lag-source';
import { packLags } from './packed-lags';
import { PlannerStatistics } from './planner-statistics';
import { ProgressMirror } from './progress-mirror';
import { QueryMirror } from './query-mirror';
import { VersionBuckets } from './version-buckets';

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

/** What one pass did: its counts, and the notification groups the router must decide again. */
export interface SharePassResult {
  readonly queries: number;
  readonly evaluations: number;
  readonly transitions: number;
  /** Query names whose alerts changed since the last read or in this pass. */
  readonly changedQueries: Set<string>;
}

/** What every share uses, owned by the evaluator. */
export interface ShareDeps {
  readonly repo: AlertEvaluationRepository;
  readonly lag: LagSource;
  readonly metrics: AlertMetrics;
  readonly config: AppConfig;
  readonly logger: Logger;
  /** Between two passes of this share (the evaluation interval): when the thread may collect. */
  readonly passSpacingMs: number;
}

export class EvaluationShare {
  private readonly thread: EvaluationThread;
  // What the thread holds (only what changed goes over): alert rows, queries, lag readings, rules
  // (by their JSON), and the gauge values it reported.
  private readonly mirror = new AlertMirror();
  private readonly queryMirror = new QueryMirror();
  private readonly lagMirror = new LagMirror();
  private readonly progressMirror = new ProgressMirror();
  private sentRules: string | undefined;
  // The version rows as last read, by bucket: a pass reads only the buckets that changed.
  private readonly queryBuckets = new VersionBuckets<QueryVersionRow>();
  private readonly alertBuckets = new VersionBuckets<AlertVersionRow>();
  private readonly gaugeValues = new Map<string, QueryGauges>();
  private readonly statistics: PlannerStatistics;
  /** False until a hand-over since the last reset succeeded: the next one is then a full one. */
  private inSync = false;
  private readonly gauges: {
    alerts: GaugeSync<'state' | 'rule' | 'query'>;
    queryPhase: GaugeSync<'query' | 'phase'>;
    recentCrashes: GaugeSync<'query'>;
    lastProgress: GaugeSync<'query'>;
  };
  /** Whether this share evaluated since it last was (or became) a follower's. */
  evaluated = false;
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
    readonly share: Share,
    private readonly deps: ShareDeps,
  ) {
    // The worker's prebuilt bundle (run from source) is kept in the control plane's home; every
    // share has a core of its own in the process's one thread (evaluation-thread.ts).
    this.thread = new EvaluationThread(path.resolve(deps.config.SLUICE_HOME, 'build', 'workers'));
    const { metrics } = deps;
    this.gauges = {
      alerts: new GaugeSync(metrics.alerts),
      queryPhase: new GaugeSync(metrics.queryPhase),
      recentCrashes: new GaugeSync(metrics.recentCrashes),
      lastProgress: new GaugeSync(metrics.lastProgress),
    };
    // A bulk change is judged against this share's rows: a share holds 1/count of them.
    this.statistics = new PlannerStatistics(share.count);
  }

  /** A follower drops what it observed and the gauges only the leader keeps. */
  async forget(): Promise<void> {
    await this.saving;
    this.evaluated = false;
    this.sinceSave = 0;
    this.resetMirrors();
    for (const g of Object.values(this.gauges)) g.clear();
    await this.thread
      .forget()
      .catch((e: Error) => this.deps.logger.warn(`alert evaluation thread: ${e.message}`));
  }

  async close(): Promise<void> {
    await this.saving;
    await this.thread.close();
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
   * Evaluates every rule on this share's queries. `slotMs` is the time the alerts' lifecycle is
   * measured in (evaluation-slots.ts); `phasesMs` gets where the pass spent its time.
   */
  async evaluate(nowMs: number, slotMs: number, phasesMs: Record<string, number>): Promise<SharePassResult> {
    const { repo, config } = this.deps;
    const share = this.share;
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
    const cluster = clusterName(config);
    // Version rows of the buckets that changed since the last read, the rest as held (version-buckets.ts).
    const [rules, live, alertVersions, progressRows] = await Promise.all([
      repo.rules(cluster),
      repo.queryVersionBuckets(this.queryBuckets.known(), share).then((b) => this.queryBuckets.apply(b)),
      repo
        .alertVersionBuckets(cluster, this.alertBuckets.known(), share)
        .then((b) => this.alertBuckets.apply(b)),
      repo.progressStamps(share),
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
      repo.queryDetails(this.queryMirror.missingDetails(scoped)),
      needsStored ? repo.storedHistories([...foreign.ids], share) : undefined,
    ]);
    readLap('details');
    this.queryMirror.addDetails(details, scoped);
    const queryDiff = this.queryMirror.diff(scoped, progress);
    const progressDiff = this.progressMirror.diff(scoped, progress);
    const diff = this.mirror.diff(alertRows);
    const alertUpserts = await repo.alertRows(diff.changed.map((a) => a.id));
    readLap('alertRows');
    const running = scoped.filter((q) => q.desiredState === 'RUNNING');
    const lagDiff = this.lagMirror.diff(await this.deps.lag.lagOf(running.map((q) => q.id)));
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
      dashboardUrl: config.SLUICE_DASHBOARD_URL.replace(/\/$/, ''),
      ...(stored ? { stored } : {}),
      saveHistories,
      // The thread (every share's core) collects once an interval, between the last share's pass
      // and the next interval's first, a pass spacing apart: its heap holds every share's state,
      // so a full collection after each pass would cost that whole heap once per share.
      ...(share.index === share.count - 1
        ? { collectAfterMs: idleCollectionDelayMs(this.deps.passSpacingMs) }
        : {}),
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
      await repo
        .analyze(stale)
        .catch((e: Error) => this.deps.logger.warn(`ANALYZE ${stale.join(', ')} failed: ${e.message}`));
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

  /** Saves the histories the thread returned; drops the saved ones of this share's deleted queries
   * (`drop`: its live ids) when asked. A failure is logged: those histories are saved again once
   * observed again. */
  private async saveHistories(chunks: readonly string[], drop: string[] | undefined): Promise<void> {
    const t = performance.now();
    try {
      for (const chunk of chunks) await this.deps.repo.saveHistories(chunk, new Date());
      if (drop) await this.deps.repo.dropHistoriesExcept(drop, this.share);
    } catch (e) {
      this.deps.logger.warn(`saving the alert histories failed: ${(e as Error).message}`);
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
    for (const c of chunks) await this.deps.repo.applyWrites(c);
  }

  private async updateGauges(
    queries: readonly QueryVersionRow[],
    progress: ReadonlyMap<string, number>,
    out: EvaluationOutput,
    slicer: Slicer,
  ): Promise<void> {
    const g = this.gauges;
    // Per partition: series rebuilt only for queries whose statuses changed (consumer-status-metric.ts),
    // in this share's scope (the other shares' series are theirs to end).
    const statuses = this.deps.metrics.consumerStatus;
    const scope = this.share.index;
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
      if (consumerStatus !== null) statuses.record(q.name, consumerStatus, scope);
    }
    statuses.commit(scope);
    const a = out.alertsAfter;
    for (let i = 0; i < a.length; i += 3) {
      const [state, rule, query] = [a[i]!, a[i + 1]!, a[i + 2]!];
      g.alerts.set(`${state}\u0000${rule}\u0000${query}`, { state, rule, query }, 1);
    }
    for (const s of Object.values(g)) s.commit();
  }
}
