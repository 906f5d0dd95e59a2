// The live control loop (issue 6): every SLUICE_SCALING_INTERVAL_MS, for each RUNNING query, it
// reads the recent stored progress and the consumer lag, asks the query's policy for a decision,
// clamps it to [minInstances, min(maxInstances, partitions)] and records it as a ScalingEvent.
// In mode 'auto' an instance change becomes the ordinary scale operation (so it is audited,
// serialised with other operations and reconciled like a manual one) and, with backpressure on,
// the decided read-rate cap goes to the engines as a setRateLimit command when it changed.
import { triggerIntervalMs } from '@sluice/query-plan';
import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { LeaderElection } from '../leadership/leader-election.service';
import {
  clampInstances,
  decideScaleAction,
  upperBound,
  wantsToScale,
  type LagSample,
  type ScalingMode,
  type ScalingPolicy,
} from '@sluice/scaling';
import { clusterName } from '../leadership/cluster-name';
import { LeaderTick } from '../leadership/leader-tick';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ControlPublisher } from '../control/control-publisher.service';
import type { Query } from '../generated/prisma/client';
import { Clock } from '../clock/clock';
import { OperationRepository } from '../operations/operation.repository';
import { QueriesService } from '../queries/queries.service';
import { scaleCommand } from '../queries/query-commands';
import { InstanceRepository } from '../repositories/instance.repository';
import { ProgressRepository } from '../repositories/progress.repository';
import { QueryRepository } from '../repositories/query.repository';
import { ScalingEventRepository, type DecisionValue } from '../repositories/scaling-event.repository';
import { lagSample, partitionCount, progressSamples } from './progress-window';
import { consumingInstances } from './consuming-instances';
import { LagService } from '../lag/lag.service';
import { ScalingMetrics } from './scaling-metrics';
import { ScalingPolicies } from './scaling-policies';
import type { Actor } from '../audit/actor';

/** The live loop acts as itself in the audit log (no token). */
export const SCALING_ACTOR: Actor = { id: 'system/scaling-loop', name: 'scaling-loop' };
const INTERVAL_NAME = 'scaling-loop';
const LAG_SAMPLE_NAME = 'scaling-lag-sample';
/**
 * Lag reads per decision interval: the tick's own and the rest between ticks. With one read a tick
 * a rise that arrived within the tick reads as a blend of the old and the new level, and the policy
 * cannot tell a step that filled the tick from one that arrived at its end (live, a 1 -> 2 on the
 * blend and a 2 -> 4 a tick later, two rebalances; BENCHMARKS.md, "A rise seen within the tick").
 * The simulator gives policies a read a second.
 */
export const LAG_READS_PER_TICK = 3;
/** Upper bound of progress rows read per query and tick (newest first). */
const MAX_PROGRESS_ROWS = 5000;
/** Decisions older than this are trimmed (once an hour). */
const EVENT_RETENTION_MS = 7 * 24 * 3_600_000;
const TRIM_EVERY_MS = 3_600_000;

interface PolicySlot {
  name: string;
  policy: ScalingPolicy;
}

export interface LoopOutcome {
  direction: 'up' | 'down' | 'none';
  fromInstances: number;
  toInstances: number;
  acted: boolean;
  reason: string;
}

@Injectable()
export class ScalingLoopService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ScalingLoopService.name);
  private readonly slots = new Map<string, PolicySlot>();
  private readonly lagHistory = new Map<string, LagSample[]>();
  /** maxOffsetsPerTrigger this process last sent per query (absent = never sent). */
  private readonly sentRateLimit = new Map<string, number | null>();
  private ticking = false;
  private lastTrimMs = 0;

  // Collaborators are typed by the part this service uses (the token stays the class), so a unit
  // test can hand in small typed fakes (test/support/fakes.ts).
  constructor(
    @Inject(QueryRepository)
    private readonly queryRepository: Pick<QueryRepository, 'listWantedRunning' | 'findVersion'>,
    @Inject(InstanceRepository) private readonly instances: Pick<InstanceRepository, 'listForQuery'>,
    @Inject(ProgressRepository) private readonly progress: Pick<ProgressRepository, 'batchesSince'>,
    @Inject(ScalingEventRepository)
    private readonly events: Pick<ScalingEventRepository, 'record' | 'lastScale' | 'deleteBefore'>,
    @Inject(LagService) private readonly lag: Pick<LagService, 'lagOf' | 'joinedInstances'>,
    @Inject(QueriesService) private readonly queries: Pick<QueriesService, 'scale' | 'maxInstances'>,
    @Inject(OperationRepository) private readonly operations: Pick<OperationRepository, 'findActiveForQuery'>,
    @Inject(ControlPublisher) private readonly control: Pick<ControlPublisher, 'setRateLimit'>,
    private readonly metrics: ScalingMetrics,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LeaderElection) private readonly leadership: Pick<LeaderElection, 'isLeader'>,
    private readonly clock: Clock,
    @Inject(ScalingPolicies) private readonly policies: Pick<ScalingPolicies, 'create'>,
  ) {
    this.ticker = new LeaderTick({
      name: INTERVAL_NAME,
      everyMs: config.SLUICE_SCALING_INTERVAL_MS,
      leadership,
      work: () => this.tick(),
      warn: (m) => this.logger.warn(m),
      scheduler,
    });
    this.sampler = new LeaderTick({
      name: LAG_SAMPLE_NAME,
      everyMs: Math.max(100, Math.round(config.SLUICE_SCALING_INTERVAL_MS / LAG_READS_PER_TICK)),
      leadership,
      work: () => this.sampleLag(),
      warn: (m) => this.logger.warn(m),
      scheduler,
    });
  }

  /** Every SLUICE_SCALING_INTERVAL_MS, on the leader only: two replicas would each act on the same
   * rate step. */
  private readonly ticker: LeaderTick;
  /** The lag reads between ticks (LAG_READS_PER_TICK). */
  private readonly sampler: LeaderTick;

  onApplicationBootstrap(): void {
    this.ticker.start();
    this.sampler.start();
  }

  async onModuleDestroy(): Promise<void> {
    // A pass that is under way finishes before the database connections close.
    await Promise.all([this.ticker.stop(), this.sampler.stop()]);
  }

  /**
   * Reads the lag of the queries the loop decides for, between its ticks, into the history the
   * next decision reads. Only queries a tick already saw: a new query's first read is its tick's.
   * A read that a tick overtook is dropped (the history stays in time order). Not the lag
   * poller's readings (`LagService.recentLag`): it polls every 5 s whatever the interval, so at
   * the default 10 s interval it gives one read a tick at a random point, and none within a
   * compressed replay's tick.
   */
  async sampleLag(): Promise<void> {
    if (this.ticking) return;
    for (const id of [...this.lagHistory.keys()]) {
      const nowMs = this.clock.now().getTime();
      try {
        const partitionLag = await this.lag.lagOf(id);
        if (partitionCount(partitionLag) > 0 && this.lagHistory.has(id))
          this.recordLag(id, lagSample(partitionLag, nowMs), nowMs);
      } catch (e) {
        this.logger.warn(`lag read for scaling failed (the next read retries): ${(e as Error).message}`);
      }
    }
  }

  /** One pass over every running query; a pass still under way makes the next tick a no-op. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      // This cluster's queries only: another cluster's loop scales its own.
      const running = await this.queryRepository.listWantedRunning(clusterName(this.config));
      const ids = new Set(running.map((q) => q.id));
      for (const map of [this.slots, this.lagHistory, this.sentRateLimit]) {
        for (const id of map.keys()) if (!ids.has(id)) map.delete(id);
      }
      for (const q of running) {
        try {
          await this.evaluate(q);
        } catch (e) {
          this.logger.warn(`scaling decision for ${q.name} failed: ${(e as Error).message}`);
        }
      }
      await this.trim();
    } catch (e) {
      this.logger.warn(`scaling tick failed (next tick retries): ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  /** Decides (and in 'auto' acts) for one query; undefined when there is nothing to decide on. */
  async evaluate(q: Query): Promise<LoopOutcome | undefined> {
    const nowMs = this.clock.now().getTime();
    const version = await this.queryRepository.findVersion(q.id, q.desiredVersion);
    const triggerMs = triggerIntervalMs(version?.spec) || 1000;
    const partitionLag = await this.lag.lagOf(q.id);
    const partitions = partitionCount(partitionLag);
    if (partitions === 0) return undefined; // source topic not created yet: no lag, no partition cap

    const lag = this.recordLag(q.id, lagSample(partitionLag, nowMs), nowMs);
    const since = new Date(nowMs - this.config.SLUICE_SCALING_WINDOW_MS);
    const rows = await this.progress.batchesSince(q.id, since, MAX_PROGRESS_ROWS);
    // Under a CPU limit a round costs at least what its CPU takes of the limit (aggregate-progress.ts).
    const samples = progressSamples(rows, triggerMs, q.cpuLimit);
    const ready = consumingInstances(
      await this.instances.listForQuery(q.id),
      rows,
      await this.lag.joinedInstances(q),
    );

    const limits = {
      minInstances: q.minInstances,
      maxInstances: q.maxInstances ?? this.config.SLUICE_MAX_INSTANCES,
      partitions,
    };
    const current = q.desiredInstances;
    const mode: ScalingMode = q.scalingMode === 'auto' ? 'auto' : 'observe';
    const slot = this.policyFor(q);
    const decision = slot.policy.decide({
      nowMs,
      samples,
      lag,
      currentInstances: current,
      readyInstances: Math.min(ready, current),
      limits,
    });
    // The cooldown and operation facts cost two reads: only a move in auto mode needs them.
    const moving = wantsToScale(mode, current, clampInstances(decision.instances, limits));
    const action = decideScaleAction({
      mode,
      backpressure: q.backpressure,
      currentInstances: current,
      decision,
      limits,
      triggerMs,
      nowMs,
      cooldownMs: this.config.SLUICE_SCALING_COOLDOWN_MS,
      upHoldMs: this.config.SLUICE_SCALING_UP_HOLD_MS,
      lastScale: moving ? await this.lastScale(q.id, nowMs) : null,
      activeOperation: moving ? await this.operations.findActiveForQuery(q.id) : null,
      operatorRateLimit: q.rateLimit,
      sentRateLimit: this.sentRateLimit.get(q.id),
    });
    const { target, direction } = action;
    const upper = upperBound(limits);
    const notes = [...action.notes];

    let acted = false;
    let scaled = false;
    if (action.scale) {
      try {
        await this.queries.scale(
          scaleCommand(q.id, { instances: target }, this.queries.maxInstances),
          SCALING_ACTOR,
        );
        acted = scaled = true;
        // New instances start with the query's own limit: re-send ours on the next decision.
        this.sentRateLimit.delete(q.id);
      } catch (e) {
        if (!(e instanceof ConflictException)) throw e;
        notes.push('skipped: another operation is in progress');
      }
    }
    if (action.sendRateLimit) {
      await this.control.setRateLimit(q.id, action.sendRateLimit.value);
      this.sentRateLimit.set(q.id, action.sendRateLimit.value);
      acted = true;
    }
    const pid = action.pidOffsetsPerTrigger;

    const last = samples[samples.length - 1];
    const latest = lag[lag.length - 1];
    const inputs: Record<string, DecisionValue> = {
      partitions,
      currentInstances: current,
      readyInstances: ready,
      minInstances: limits.minInstances,
      maxInstances: upper,
      triggerMs,
      samples: samples.length,
      inputRowsPerSecond: last?.inputRowsPerSecond ?? null,
      processedRowsPerSecond: last?.processedRowsPerSecond ?? null,
      batchDurationMs: last?.batchDurationMs ?? null,
      lagRecords: latest?.records ?? null,
      lagSeconds: latest?.seconds ?? null,
      ...decision.inputs,
      decidedInstances: decision.instances,
      rateLimitRecordsPerSecond: decision.rateLimit ?? null,
      scaled,
    };
    const reason = [decision.reason, ...notes].join('; ');
    await this.events.record({
      queryId: q.id,
      at: new Date(nowMs),
      policy: slot.name,
      mode: q.scalingMode,
      direction,
      fromInstances: current,
      toInstances: target,
      rateLimit: pid ?? null,
      reason,
      inputs,
      acted,
    });
    this.metrics.decisions.inc({ query: q.name, policy: slot.name, direction });
    return { direction, fromInstances: current, toInstances: target, acted, reason };
  }

  /** When and which way the loop last changed this query's instance count, within the cooldown window. */
  private async lastScale(
    queryId: string,
    nowMs: number,
  ): Promise<{ atMs: number; direction: 'up' | 'down' } | null> {
    const cooldown = this.config.SLUICE_SCALING_COOLDOWN_MS;
    if (cooldown <= 0) return null;
    const previous = await this.events.lastScale(queryId, new Date(nowMs - cooldown));
    return previous ? { atMs: previous.at.getTime(), direction: previous.direction } : null;
  }

  /** Policies keep state (capacity model, hysteresis), so each query keeps its instance. */
  private policyFor(q: Query): PolicySlot {
    const existing = this.slots.get(q.id);
    if (existing?.name === q.scalingPolicy) return existing;
    const slot = { name: q.scalingPolicy, policy: this.policies.create(q.scalingPolicy) };
    this.slots.set(q.id, slot);
    return slot;
  }

  private recordLag(queryId: string, sample: LagSample, nowMs: number): LagSample[] {
    const since = nowMs - this.config.SLUICE_SCALING_WINDOW_MS;
    const history = (this.lagHistory.get(queryId) ?? []).filter((s) => s.timeMs >= since);
    const last = history[history.length - 1];
    if (!last || last.timeMs < sample.timeMs) history.push(sample);
    this.lagHistory.set(queryId, history);
    return history;
  }

  private async trim(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.lastTrimMs < TRIM_EVERY_MS) return;
    this.lastTrimMs = now;
    await this.events.deleteBefore(new Date(now - EVENT_RETENTION_MS));
  }
}
