// The evaluation loop: every SLUICE_ALERT_EVAL_INTERVAL_MS the leader (LeaderElection: one
// control plane per cluster holds the PostgreSQL advisory lock) evaluates every enabled rule on
// every query it applies to, moves each (rule, query) alert through Prometheus' lifecycle
// (`step`), stores the alerts that changed with one AlertTransition row per change, refreshes
// the alerting metrics, and hands the result to the notification router.
//
// The queries are divided into SLUICE_ALERT_EVAL_SHARES shares, evaluated one after the other,
// a pass per share spread evenly over the interval (evaluation-shares.ts says why); each share
// has its own pipeline (evaluation-share.ts) and each query is evaluated once per interval. After
// each pass the router decides the groups whose alerts that pass changed, and those that came due.
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
// and lag readings; the main thread's work per pass is incremental (evaluation-share.ts). The
// main thread's young generation is emptied just before each pass's slot (pre-slot-collection.ts),
// so the pass's garbage is not collected inside it.
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
import { AlertMetrics } from '../metrics/alert-metrics';
import { AlertEvaluationRepository } from './alert-evaluation.repository';
import { EvaluationShare } from './evaluation-share';
import { effectiveShares, shareOfSlot } from './evaluation-shares';
import { nextSlot, slotRun } from './evaluation-slots';
import { LagSource } from './lag-source';
import { NotificationRouter } from './notification-router.service';
import { PreSlotCollection } from './pre-slot-collection';

const TIMER_NAME = 'alert-evaluation';

export interface TickResult {
  /** The share this pass evaluated (evaluation-shares.ts), of `shares`. */
  readonly share: number;
  readonly shares: number;
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
  private readonly shares: readonly EvaluationShare[];
  /** Between two passes: the interval divided by the shares. */
  readonly passSpacingMs: number;
  /** The main thread's young generation emptied before each slot this process evaluates. */
  private readonly preSlot = new PreSlotCollection();
  /** The passes one after the other: the router and the thread take one pass at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Shares with a pass queued or running: a share's slot that comes while its pass waits is skipped. */
  private readonly waiting = new Set<number>();
  private ticking = false;
  /** The last evaluation slot whose timer fired (evaluation-slots.ts); undefined before the first. */
  private lastSlotMs: number | undefined;
  private stopped = false;

  constructor(
    repo: AlertEvaluationRepository,
    lag: LagSource,
    private readonly router: NotificationRouter,
    private readonly metrics: AlertMetrics,
    private readonly leadership: LeaderElection,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const intervalMs = config.SLUICE_ALERT_EVAL_INTERVAL_MS;
    const count = effectiveShares(config.SLUICE_ALERT_EVAL_SHARES, intervalMs);
    this.passSpacingMs = intervalMs / count;
    const deps = { repo, lag, metrics, config, logger: this.logger, passSpacingMs: this.passSpacingMs };
    this.shares = Array.from({ length: count }, (_, index) => new EvaluationShare({ index, count }, deps));
  }

  /** How many shares the queries are divided into (SLUICE_ALERT_EVAL_SHARES, as the interval allows). */
  get shareCount(): number {
    return this.shares.length;
  }

  onApplicationBootstrap(): void {
    this.scheduleSlot();
  }

  /**
   * Passes run at the start of each slot of the pass spacing (evaluation-slots.ts says why), the
   * shares taking turns, one timer at a time: a timer per slot, not a `setInterval`, whose ticks
   * drift from the grid.
   */
  private scheduleSlot(): void {
    if (this.stopped) return;
    const spacingMs = this.passSpacingMs;
    const now = Date.now();
    const slot = nextSlot(this.lastSlotMs, now, spacingMs);
    const timer = setTimeout(() => {
      this.scheduler.deleteTimeout(TIMER_NAME);
      this.lastSlotMs = slotRun(slot, Date.now(), spacingMs);
      this.enqueue(shareOfSlot(this.lastSlotMs, spacingMs, this.shares.length), this.lastSlotMs);
      this.scheduleSlot();
    }, slot - now);
    timer.unref();
    this.scheduler.addTimeout(TIMER_NAME, timer);
    this.preSlot.scheduleBefore(slot, () => this.leadership.isLeader && this.waiting.size === 0);
  }

  /**
   * Queues a share's pass for the slot `slotMs`, behind a pass still under way (it never runs
   * beside one). A share whose previous pass has not run yet skips this slot, as Prometheus skips
   * an iteration its group missed; a follower that evaluated drops what it holds instead.
   */
  private enqueue(share: number, slotMs: number): void {
    if (this.waiting.has(share)) return;
    this.waiting.add(share);
    const run = async () => {
      try {
        if (this.stopped) return;
        if (this.leadership.isLeader) await this.tick(Date.now(), slotMs, share);
        else if (this.shares.some((s) => s.evaluated)) await this.forget();
      } finally {
        this.waiting.delete(share);
      }
    };
    this.queue = this.queue.then(run, run);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.preSlot.cancel();
    if (this.scheduler.doesExist('timeout', TIMER_NAME)) this.scheduler.deleteTimeout(TIMER_NAME);
    await this.queue;
    for (const s of this.shares) await s.close();
  }

  /** A follower drops what it observed and the gauges only the leader keeps. */
  private async forget(): Promise<void> {
    for (const s of this.shares) await s.forget();
    this.router.reset();
    this.metrics.consumerStatus.reset();
  }

  /**
   * One pass: every rule on the queries of `share`, then routing; a pass still under way makes
   * this a no-op. `slotMs` is the time the alerts' lifecycle (`for`, activeAt, firedAt,
   * resolvedAt) is measured in: the pass's slot when the timer runs it, `nowMs` when called
   * directly.
   */
  async tick(nowMs = Date.now(), slotMs = nowMs, share = 0): Promise<TickResult | undefined> {
    const pipeline = this.shares[share];
    if (this.ticking || !pipeline) return undefined;
    this.ticking = true;
    const end = this.metrics.evaluationSeconds.startTimer();
    try {
      const phasesMs: Record<string, number> = {};
      const { changedQueries, ...result } = await pipeline.evaluate(nowMs, slotMs, phasesMs);
      phasesMs.lastPreSlotCollection = this.preSlot.lastMs;
      const t = performance.now();
      const routePhases: Record<string, number> = {};
      const routed = await this.router.route(nowMs, changedQueries, routePhases);
      phasesMs.route = Math.round(performance.now() - t);
      for (const [k, v] of Object.entries(routePhases)) phasesMs[`route.${k}`] = v;
      const out = { share, shares: this.shares.length, ...result, routedGroups: routed.groups, phasesMs };
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
}
