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
// Cost at 1,000 queries × 16 partitions (BENCHMARKS.md has the profile): the computation (the
// histories, every rule on every query, the gauges' values) runs in a worker thread
// (evaluation-thread.ts, evaluation-core.ts); this thread does the reads and the writes, each a
// few set-based statements (alert-writes.ts), and sets the gauges only where a value changed
// (gauge-sync.ts), giving the event loop a turn every SLICE_MS; the lag is the lag poll's.
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
import { CONSUMER_STATUS_VALUE, type PartitionStatus } from '@sluice/alerting';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LeaderElection } from '../leadership/leader-election.service';
import { clusterName } from '../leadership/cluster-name';
import { AlertMetrics } from '../metrics/alert-metrics';
import { clusterScope } from './cluster-scope';
import { PrismaRepository } from '../repositories/prisma.repository';
import { emptyWrites, writeStatements, type AlertWrites } from './alert-writes';
import { AlertMirror, type AlertVersion } from './alert-mirror';
import type {
  AlertInput,
  EvaluationOutput,
  QueryInput,
  RuleInput,
  StoredHistory,
} from './evaluation-messages';
import { EvaluationThread } from './evaluation-thread';
import { GaugeSync } from './gauge-sync';
import { LagSource } from './lag-source';
import { NotificationRouter } from './notification-router.service';
import { packLags } from './packed-lags';

const INTERVAL_NAME = 'alert-evaluation';
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
  cluster: true,
  name: true,
  phase: true,
  desiredState: true,
  lastProgressAt: true,
  conditions: true,
  crashTimes: true,
} as const;
interface QueryRow {
  id: string;
  cluster: string | null;
  name: string;
  phase: string;
  desiredState: string;
  lastProgressAt: Date | null;
  conditions: unknown;
  crashTimes: unknown;
}
/** One Alert row as the evaluation reads it: the thread's columns, times in epoch ms, figures as
 * JSON text (decoded only when the row changed), and its version for the diff (alert-mirror.ts). */
interface AlertRow extends AlertVersion {
  ruleId: string;
  queryId: string;
  state: string;
  activeAtMs: number | null;
  firedAtMs: number | null;
  resolvedAtMs: number | null;
  value: number | null;
  figures: string;
}
/**
 * Every Alert row in one statement (Prisma's findMany decoded every row's JSON and dates each
 * tick). Every write of a row sets updatedAt (the evaluator's upsert, an acknowledgement through
 * Prisma), so updatedAt with state and acknowledgedAt is the row's version. Rows of another
 * cluster's rules are read too (flagged out of scope); the router routes only this cluster's
 * queries' groups (notification-router.service.ts), so another cluster's changes it leaves alone.
 */
const ALERT_ROWS_SQL = `
  SELECT a.id::text AS id, a."ruleId"::text AS "ruleId", a."queryId"::text AS "queryId",
    a."queryName", a.state,
    (extract(epoch FROM a."activeAt") * 1000)::float8 AS "activeAtMs",
    (extract(epoch FROM a."firedAt") * 1000)::float8 AS "firedAtMs",
    (extract(epoch FROM a."resolvedAt") * 1000)::float8 AS "resolvedAtMs",
    a.value, a.figures::text AS figures,
    (r.cluster IS NULL OR r.cluster = $1) AS "inScope",
    concat_ws('|', a.state, a."updatedAt"::text, a."acknowledgedAt"::text) AS version
  FROM "Alert" a JOIN "AlertRule" r ON r.id = a."ruleId"`;
/** The enabled rules of this cluster in one statement. */
const RULE_ROWS_SQL = `
  SELECT id::text AS id, name, kind, params, "forSeconds", severity, labels, annotations, queries
  FROM "AlertRule" WHERE enabled AND (cluster IS NULL OR cluster = $1)`;

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
  /** The alert rows last handed to the thread (only what changed goes over). */
  private readonly mirror = new AlertMirror();
  private readonly gauges: {
    alerts: GaugeSync<'state' | 'rule' | 'query'>;
    consumerStatus: GaugeSync<'query' | 'topic' | 'partition'>;
    queryPhase: GaugeSync<'query' | 'phase'>;
    recentCrashes: GaugeSync<'query'>;
    lastProgress: GaugeSync<'query'>;
  };
  private inFlight: Promise<unknown> = Promise.resolve();
  private ticking = false;
  /** Whether this process evaluated since it last was (or became) a follower. */
  private evaluated = false;
  /** Evaluations since the histories were last saved. */
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
    // The worker's prebuilt bundle (run from source) is kept in the control plane's home.
    this.thread = new EvaluationThread(path.resolve(config.SLUICE_HOME, 'build', 'workers'));
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
      // A pass still under way is what onModuleDestroy waits for: never replace it.
      if (this.ticking) return;
      if (this.leadership.isLeader) this.inFlight = this.tick();
      else if (this.evaluated) this.inFlight = this.forget();
    }, this.config.SLUICE_ALERT_EVAL_INTERVAL_MS);
    timer.unref();
    this.scheduler.addInterval(INTERVAL_NAME, timer);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
    await this.inFlight;
    await this.thread.close();
  }

  /** A follower drops what it observed and the gauges only the leader keeps. */
  private async forget(): Promise<void> {
    if (this.ticking) return;
    this.evaluated = false;
    this.sinceSave = 0;
    this.mirror.reset();
    this.router.reset();
    for (const g of Object.values(this.gauges)) g.clear();
    await this.thread.forget().catch((e: Error) => this.logger.warn(`alert evaluation thread: ${e.message}`));
  }

  /** One evaluation of every rule on every query; a pass still under way makes this a no-op. */
  async tick(nowMs = Date.now()): Promise<TickResult | undefined> {
    if (this.ticking) return undefined;
    this.ticking = true;
    const end = this.metrics.evaluationSeconds.startTimer();
    try {
      const phasesMs: Record<string, number> = {};
      const { changedQueries, ...result } = await this.evaluate(nowMs, phasesMs);
      const t = performance.now();
      const routed = await this.router.route(nowMs, changedQueries);
      phasesMs.route = Math.round(performance.now() - t);
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
    phasesMs: Record<string, number>,
  ): Promise<Omit<TickResult, 'phasesMs' | 'routedGroups'> & { changedQueries: Set<string> }> {
    let t = performance.now();
    const lap = (name: string) => {
      const n = performance.now();
      phasesMs[name] = Math.round(n - t);
      t = n;
    };
    const slicer = new Slicer();
    const cluster = this.config.SLUICE_CLUSTER_NAME;
    const [rules, live, allAlertRows] = await Promise.all([
      this.prisma.$queryRawUnsafe<RuleInput[]>(RULE_ROWS_SQL, cluster),
      this.prisma.query.findMany({ where: { deletedAt: null }, select: QUERY_COLUMNS }) as Promise<
        QueryRow[]
      >,
      this.prisma.$queryRawUnsafe<AlertRow[]>(ALERT_ROWS_SQL, cluster),
    ]);
    // Only this cluster's queries and the alerts on them: another cluster's leader evaluates its own
    // (a rule with no cluster included), so neither reads nor writes the other's.
    const {
      queries,
      alerts: alertRows,
      foreign,
    } = clusterScope(clusterName(this.config), live, allAlertRows);
    const running = queries.filter((q) => q.desiredState === 'RUNNING');
    const lags = await this.lag.lagOf(running.map((q) => q.id));
    // A new thread (or a new leadership) continues from the histories the last leader saved,
    // and gets every alert row (its copy of the table starts empty).
    if (this.thread.needsStoredHistories) this.mirror.reset();
    const diff = this.mirror.diff(alertRows);
    const stored = this.thread.needsStoredHistories
      ? (
          (await this.prisma.alertQueryHistory.findMany({
            select: { queryId: true, state: true },
          })) as StoredHistory[]
        ).filter((h) => !foreign.ids.has(h.queryId))
      : undefined;
    lap('read');

    const packed = packLags(lags);
    const saveHistories = this.sinceSave + 1 >= HISTORY_SAVE_EVERY;
    const input = {
      nowMs,
      rules,
      queries: queries.map(queryInput),
      // Only the rows that changed: the thread keeps the others.
      alerts: { full: diff.full, upserts: diff.changed.map(alertInput), removed: diff.removed },
      lags: packed,
      dashboardUrl: this.config.SLUICE_DASHBOARD_URL.replace(/\/$/, ''),
      stored,
      saveHistories,
    };
    const transfer = [packed.readAtMs.buffer, packed.start.buffer, packed.rows.buffer] as ArrayBuffer[];
    lap('prepare');
    const out = await this.thread.evaluate(input, transfer);
    diff.commit();
    this.evaluated = true;
    lap('compute');
    for (const [k, v] of Object.entries(out.phasesMs)) phasesMs[`compute.${k}`] = v;

    await this.write(out.writes);
    lap('writes');
    await this.updateGauges(queries, out, slicer);
    lap('gauges');
    this.sinceSave++;
    if (out.histories) {
      await this.saveHistories(out.histories, live, slicer);
      this.sinceSave = 0;
      lap('saveHistories');
    }
    // The groups to route: those whose alerts changed since the last read or in this pass.
    const changedQueries = diff.queries;
    for (const tr of out.writes.transitions) changedQueries.add(tr.queryName);
    return {
      queries: queries.length,
      evaluations: out.evaluations,
      transitions: out.transitions,
      changedQueries,
    };
  }

  /** Saves the histories observed since the last save (set-based, in chunks) and drops the rows
   * of queries that are gone. */
  private async saveHistories(
    histories: readonly StoredHistory[],
    queries: readonly QueryRow[],
    slicer: Slicer,
  ): Promise<void> {
    const savedAt = new Date().toISOString();
    for (let i = 0; i < histories.length; i += HISTORY_CHUNK) {
      const rows = histories.slice(i, i + HISTORY_CHUNK).map((h) => ({ ...h, savedAt }));
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
      queries.map((q) => q.id),
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

  private async updateGauges(
    queries: readonly QueryRow[],
    out: EvaluationOutput,
    slicer: Slicer,
  ): Promise<void> {
    const g = this.gauges;
    for (let i = 0; i < queries.length; i++) {
      if (slicer.due()) await slicer.yield();
      const q = queries[i]!;
      const { recentCrashes, consumerStatus } = out.gauges[i]!;
      g.queryPhase.group(q.name, q.phase, () =>
        PHASES.map((phase) => [phase, { query: q.name, phase }, q.phase === phase ? 1 : 0]),
      );
      g.recentCrashes.set(q.name, { query: q.name }, recentCrashes);
      if (q.lastProgressAt !== null)
        g.lastProgress.set(q.name, { query: q.name }, q.lastProgressAt.getTime() / 1000);
      if (consumerStatus === null) continue;
      g.consumerStatus.group(q.name, consumerStatus, () => consumerStatusEntries(q.name, consumerStatus));
    }
    const a = out.alertsAfter;
    for (let i = 0; i < a.length; i += 3) {
      const [state, rule, query] = [a[i]!, a[i + 1]!, a[i + 2]!];
      g.alerts.set(`${state}\u0000${rule}\u0000${query}`, { state, rule, query }, 1);
    }
    for (const s of Object.values(g)) s.commit();
  }
}

/** The label sets of `sluice_consumer_status` from the signature the thread computed. */
function consumerStatusEntries(
  query: string,
  signature: string,
): Array<[string, Partial<Record<'query' | 'topic' | 'partition', string>>, number]> {
  const out: Array<[string, Partial<Record<'query' | 'topic' | 'partition', string>>, number]> = [];
  for (const item of signature.split(';')) {
    if (item === '') continue;
    const slash = item.lastIndexOf('/');
    const eq = item.lastIndexOf('=');
    const topic = item.slice(0, slash);
    const partition = item.slice(slash + 1, eq);
    const status = item.slice(eq + 1) as PartitionStatus;
    out.push([`${topic}\u0000${partition}`, { query, topic, partition }, CONSUMER_STATUS_VALUE[status]]);
  }
  return out;
}

function queryInput(q: QueryRow): QueryInput {
  return {
    id: q.id,
    name: q.name,
    phase: q.phase,
    desiredState: q.desiredState,
    lastProgressAtMs: q.lastProgressAt?.getTime() ?? null,
    conditions: q.conditions,
    crashTimes: q.crashTimes,
  };
}

function alertInput(a: AlertRow): AlertInput {
  return {
    id: a.id,
    ruleId: a.ruleId,
    queryId: a.queryId,
    queryName: a.queryName,
    state: a.state,
    activeAtMs: a.activeAtMs,
    firedAtMs: a.firedAtMs,
    resolvedAtMs: a.resolvedAtMs,
    value: a.value,
    figures: JSON.parse(a.figures) as unknown,
  };
}
