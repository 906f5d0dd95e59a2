// Applies decideReconcile to the real world: reads desired state (PostgreSQL) and observed
// instances (runtime driver), performs the idempotent actions, writes status once per pass.
// Passes for one query are serialised; different queries reconcile independently.
import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { LRUCache } from 'lru-cache';
import type { QueryVersion } from '../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Clock } from '../clock/clock';
import { InstanceRepository } from '../repositories/instance.repository';
import { ProgressRepository } from '../repositories/progress.repository';
import { QueryRepository, type QueryStatus } from '../repositories/query.repository';
import {
  RUNTIME_DRIVER,
  type InstanceLaunch,
  type RuntimeDriver,
  type RuntimeInstance,
} from '../runtime/runtime-driver';
import { asStoredConditions, mergeConditions } from './conditions';
import {
  decideReconcile,
  DEFAULT_RECONCILE_OPTIONS,
  type Condition,
  type InstanceStatus,
  type ObservedInstance,
  type ReconcileDecision,
} from './reconcile-decision';
import { instanceName } from '../runtime/instance-name';
import { triggerIntervalMs, type QuerySpec } from '@sluice/query-plan';
import { checkpointLaunch, checkpointRecords, type VersionOnCheckpoint } from '../runtime/checkpoint-lineage';
import type { CpuLimitReport } from '../runtime/cpu-limit';
import { SinkConnectionsService, SinkConnectionUnavailable } from '../sinks/sink-connections.service';
import { LagService } from '../lag/lag.service';
import { throttledErrorLog } from '../logging/throttled-error-log';
import { LeaderElection } from '../leadership/leader-election.service';
import { NotLeaderError } from '../leadership/not-leader.error';
import { clusterName } from '../leadership/cluster-name';

export interface ReconcileResult extends ReconcileDecision {
  running: number;
  target: number;
  live: number;
}

const MAX_CRASH_HISTORY = 20;
/** An instance's lastSeenAt (shown by the API) is refreshed at most this often while nothing changes. */
const LAST_SEEN_REFRESH_MS = 60_000;
const RESYNC_CONCURRENCY = 4;
/** How far back the reconciler looks for an instance's newest progress (engines report at least every 10 s). */
const SINK_ERROR_WINDOW_MS = 60_000;
/** Longest engine error quoted in the SinkRefused condition. */
const MAX_SINK_MESSAGE = 500;

/** Where an engine's PostgreSQL sink writes and its join tables are read from (launch.ts fields). */
interface ConnectionTargets {
  url: string | null;
  tableUrls: Record<string, string>;
  error?: string;
}

@Injectable()
export class ReconcilerService {
  private readonly logger = new Logger(ReconcilerService.name);
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly requeue = new Map<string, NodeJS.Timeout>();
  private readonly versions = new LRUCache<string, QueryVersion>({ max: 1000 });
  private stopped = false;
  private readonly logResyncError = throttledErrorLog((m) =>
    this.logger.warn(`resync could not list queries: ${m}`),
  );

  // Collaborators are typed by the part this service uses (the token stays the class), so a unit
  // test can hand in small typed fakes.
  constructor(
    @Inject(QueryRepository)
    private readonly queries: Pick<
      QueryRepository,
      'listLiveIds' | 'adoptUnowned' | 'findWithInstances' | 'findVersion' | 'recordStatus'
    >,
    @Inject(InstanceRepository)
    private readonly instances: Pick<
      InstanceRepository,
      'recordObserved' | 'recordStarting' | 'recordDraining' | 'forget'
    >,
    @Inject(RUNTIME_DRIVER) private readonly runtime: RuntimeDriver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    @Inject(SinkConnectionsService)
    private readonly sinkConnections: Pick<SinkConnectionsService, 'sinkUrlFor' | 'tableUrlsFor'>,
    @Inject(LeaderElection) private readonly leadership: Pick<LeaderElection, 'isLeader'>,
    @Inject(LagService) private readonly lag: Pick<LagService, 'recordsBehind' | 'missingSourceTopics'>,
    private readonly clock: Clock,
    @Inject(ProgressRepository) private readonly progress: Pick<ProgressRepository, 'latestSinkErrors'>,
  ) {
    this.cluster = clusterName(config);
  }

  /**
   * The cluster this control plane belongs to. Only its queries are reconciled here: control
   * planes of other clusters may share the database, and two reconcilers of one query would each
   * start engines in their own runtime.
   */
  private readonly cluster: string;

  onModuleInit(): void {
    const timer = setInterval(() => void this.resync(), this.config.SLUICE_RECONCILE_INTERVAL_MS);
    timer.unref();
    this.scheduler.addInterval('reconcile-resync', timer);
    // A crashed engine is noticed when it exits, not up to an interval later (issue 20 §5: the
    // 5 s resync was about 3 s of a local restart on average); enqueue ignores it on followers.
    this.runtime.onExit?.((queryId) => this.enqueue(queryId));
  }

  /** Level-triggered resync: every query, every interval (API changes also enqueue at once). */
  async resync(): Promise<void> {
    // Followers never act on the runtime: two replicas starting instances would double-deploy.
    if (this.stopped || !this.leadership.isLeader) return;
    const pending = await this.ownQueryIds().catch((e: Error) => {
      // The next interval retries; /readyz already reports a database that is down.
      this.logResyncError(e);
      return [];
    });
    // A few passes at a time: all of them at once took every pooled database connection for a
    // moment each interval, and API requests queued behind them.
    const worker = async (): Promise<void> => {
      for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
        await this.reconcile(id).catch((e: Error) => this.logger.warn(`reconcile ${id}: ${e.message}`));
      }
    };
    await Promise.all(Array.from({ length: RESYNC_CONCURRENCY }, worker));
  }

  /** Adopts queries from before ownership that fit this runtime, then lists this cluster's. */
  private async ownQueryIds(): Promise<string[]> {
    const adopted = await this.queries.adoptUnowned(this.cluster, this.runtime.kind);
    if (adopted > 0) this.logger.log(`adopted ${adopted} queries registered before clusters owned queries`);
    return this.queries.listLiveIds(this.cluster);
  }

  /** On a follower this does nothing: the leader's resync picks the change up within an interval. */
  enqueue(queryId: string, afterMs = 0): void {
    if (this.stopped || !this.leadership.isLeader) return;
    clearTimeout(this.requeue.get(queryId));
    const t = setTimeout(() => {
      this.requeue.delete(queryId);
      void this.reconcile(queryId).catch((e: Error) =>
        this.logger.warn(`reconcile ${queryId}: ${e.message}`),
      );
    }, afterMs);
    t.unref();
    this.requeue.set(queryId, t);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', 'reconcile-resync'))
      this.scheduler.deleteInterval('reconcile-resync');
    for (const t of this.requeue.values()) clearTimeout(t);
  }

  reconcile(queryId: string): Promise<ReconcileResult | null> {
    const prev = this.chains.get(queryId) ?? Promise.resolve();
    // The previous pass's failure belongs to its own caller (already reported there); it only orders this one.
    const next = prev.catch(() => undefined).then(() => this.pass(queryId));
    this.chains.set(queryId, next);
    // Cleanup on either outcome; the pass's own error belongs to whoever awaits `next` (a
    // `finally` here would re-reject into nowhere: an unhandled rejection per failed pass).
    const forget = (): void => {
      if (this.chains.get(queryId) === next) this.chains.delete(queryId);
    };
    next.then(forget, forget);
    return next;
  }

  /** What the runtime starts for instance `name` (a pre-start builds the same, to be released). */
  private launch(
    q: Parameters<typeof checkpointLaunch>[0] & {
      id: string;
      name: string;
      rateLimit: number | null;
      cpuLimit: number | null;
    },
    version: QueryVersion,
    name: string,
    ordinal: number,
    connections: ConnectionTargets,
  ): InstanceLaunch {
    return {
      queryId: q.id,
      queryName: q.name,
      instanceName: name,
      ordinal,
      version: version.version,
      specText: version.specText,
      // The desired checkpoint lineage: where it lives and, when fresh, where it starts.
      ...checkpointLaunch(q, this.config.SLUICE_HOME),
      brokers: this.config.KAFKA_BROKERS,
      rateLimit: q.rateLimit,
      cpuLimit: q.cpuLimit,
      sinkPostgresUrl: connections.url,
      tablePostgresUrls: connections.tableUrls,
    };
  }

  /**
   * Pre-starts `target` beside every running instance of another version (an upgrade, before the
   * drain): each successor connects and prepares while its predecessor still works, and is
   * released by the start that follows the predecessor's exit. The launch is the one that start
   * will build once `target` is desired, so a new checkpoint must already be recorded (its record
   * says where it starts). The names pre-started; none when the runtime cannot, the new
   * checkpoint is not recorded, or the sink cannot be resolved (the start then reports it).
   */
  async prestart(queryId: string, target: VersionOnCheckpoint): Promise<string[]> {
    if (!this.runtime.prestart) return [];
    const found = await this.queries.findWithInstances(queryId);
    if (!found || found.deletedAt || found.cluster !== this.cluster) return [];
    if (
      target.checkpointEpoch !== found.checkpointEpoch &&
      !checkpointRecords(found.checkpoints).some((r) => r.epoch === target.checkpointEpoch)
    )
      return [];
    const q = { ...found, checkpointEpoch: target.checkpointEpoch };
    const version = await this.version(queryId, target.version);
    if (!version) return [];
    const sink = await this.sinkTarget(version);
    if (sink.error) return [];
    const running = await this.runtime.list(queryId);
    const names: string[] = [];
    for (let ordinal = 0; ordinal < q.desiredInstances; ordinal++) {
      const name = instanceName(q.name, ordinal);
      if (!running.some((i) => i.name === name && i.state === 'running' && i.version !== target.version))
        continue;
      await this.runtime.prestart(this.launch(q, version, name, ordinal, sink));
      names.push(name);
    }
    return names;
  }

  /**
   * Why the sink (or a join table's) connection of `version` cannot be resolved now, or null: a
   * start would then start nothing (the SinkReady condition). An upgrade asks before it makes the
   * version desired, so it can roll back knowing no engine ran on the new checkpoint.
   */
  async sinkUnavailable(queryId: string, version: number): Promise<string | null> {
    const row = await this.version(queryId, version);
    if (!row) return `the query has no version ${version}`;
    return (await this.sinkTarget(row)).error ?? null;
  }

  /** Versions are immutable rows, so a pass reads each one from the database once. */
  private async version(queryId: string, version: number): Promise<QueryVersion | undefined> {
    const key = `${queryId}/${version}`;
    let row = this.versions.get(key);
    if (!row) {
      row = (await this.queries.findVersion(queryId, version)) ?? undefined;
      if (row) this.versions.set(key, row);
    }
    return row;
  }

  /** The sink's and the join tables' connections of `version`, resolved now (or why not). */
  private async sinkTarget(version: QueryVersion): Promise<ConnectionTargets> {
    const spec = version.spec as unknown as QuerySpec;
    try {
      return {
        url: await this.sinkConnections.sinkUrlFor(spec),
        tableUrls: await this.sinkConnections.tableUrlsFor(spec),
      };
    } catch (e) {
      if (e instanceof SinkConnectionUnavailable) return { url: null, tableUrls: {}, error: e.message };
      throw e;
    }
  }

  /**
   * The CPU limit to show for an instance. A running instance whose limit differs from the
   * query's gets the query's in place (the next pass shows the outcome: a cgroup quota locally, a
   * pod resize on Kubernetes); a driver without per-query limits says so instead.
   */
  private async cpuLimitOf(
    queryId: string,
    wanted: number | null,
    ri: RuntimeInstance,
  ): Promise<CpuLimitReport | null> {
    if (!this.runtime.setCpuLimit) {
      return wanted === null
        ? null
        : {
            requested: wanted,
            applied: false,
            reason: `the ${this.runtime.kind} runtime does not apply per-query CPU limits`,
          };
    }
    if (ri.state === 'running' && (ri.cpuLimit?.requested ?? null) !== wanted)
      await this.runtime.setCpuLimit(queryId, ri.name, wanted);
    return ri.cpuLimit ?? null;
  }

  /** SinkReady=False when an instance's newest progress (of the last minute) says its sink refuses. */
  private async sinkRefusal(queryId: string, now: Date): Promise<Condition | null> {
    const since = new Date(now.getTime() - SINK_ERROR_WINDOW_MS);
    const refused = (await this.progress.latestSinkErrors(queryId, since)).filter(
      (r) => r.sinkError !== null,
    );
    if (refused.length === 0) return null;
    const first = refused[0]!;
    const who = refused.length === 1 ? `instance ${first.instance ?? '?'}` : `${refused.length} instances`;
    return {
      type: 'SinkReady',
      status: 'False',
      reason: 'SinkRefused',
      message: `the sink refuses (${who}): ${first.sinkError!.slice(0, MAX_SINK_MESSAGE)}; the engines retry until it accepts (check the sink's table, credentials or topic)`,
    };
  }

  private observedStatus(i: RuntimeInstance): InstanceStatus {
    if (i.state === 'running') return i.drained ? 'DRAINING' : 'RUNNING';
    return i.drained || i.exitCode === 0 ? 'EXITED' : 'CRASHED';
  }

  private async pass(queryId: string): Promise<ReconcileResult | null> {
    if (!this.leadership.isLeader) throw new NotLeaderError(`reconcile ${queryId}`);
    const now = this.clock.now();
    const q = await this.queries.findWithInstances(queryId);
    // Another cluster's query (an enqueue from a shared path, or a stale id) is its reconciler's.
    if (!q || q.deletedAt || q.cluster !== this.cluster) return null;
    const version = await this.version(queryId, q.desiredVersion);
    if (!version) throw new Error(`query ${q.name} has no version ${q.desiredVersion}`);
    const runtimeInstances = await this.runtime.list(queryId);

    // Newly observed crashes extend the crash history (once per instance exit).
    const crashTimes = ((q.crashTimes as string[] | null) ?? []).map((t) => new Date(t));
    const rows = new Map(q.instances.map((r) => [r.name, r]));
    const observed: ObservedInstance[] = [];
    for (const ri of runtimeInstances) {
      const status = this.observedStatus(ri);
      const row = rows.get(ri.name);
      const ordinal = Number(ri.name.slice(q.name.length + 1));
      if (status === 'CRASHED' && row && row.status !== 'CRASHED') crashTimes.push(ri.exitedAt ?? now);
      // A process that is up but has not stayed up for the settle time is still STARTING.
      const settled = row
        ? now.getTime() - row.startedAt.getTime() >= this.config.SLUICE_INSTANCE_SETTLE_MS
        : false;
      const shown: InstanceStatus = status === 'RUNNING' && !settled ? 'STARTING' : status;
      // Up, yet no row: a control plane died between starting it and recording it, or a pass forgot
      // a drained pod's row before its StatefulSet recreated it. Without a row it would read
      // STARTING for ever (nothing settles it, and a live instance gets no start), and an upgrade
      // waiting for it would time out: adopt it, settling from now.
      if (!row && status === 'RUNNING') {
        this.logger.warn(`adopting ${ri.name} of ${q.name}: running (${ri.ref}) with no instance row`);
        await this.instances.recordStarting(queryId, ri.name, {
          runtime: this.runtime.kind,
          at: now,
          restarts: 0,
        });
      }
      observed.push({
        name: ri.name,
        ordinal,
        version: ri.version,
        status: shown,
        restarts: row?.restarts ?? 0,
        crashedAt: status === 'CRASHED' ? (ri.exitedAt ?? now) : null,
        lastError: status === 'CRASHED' ? (ri.lastError ?? null) : null,
        exitCode: ri.exitCode,
      });
      // Written only when something changed, or to refresh lastSeenAt once per LAST_SEEN_REFRESH_MS:
      // a resync of settled queries is then reads only.
      const stale = !row?.lastSeenAt || now.getTime() - row.lastSeenAt.getTime() >= LAST_SEEN_REFRESH_MS;
      const cpuLimit = await this.cpuLimitOf(queryId, q.cpuLimit, ri);
      if (
        row &&
        (stale ||
          row.status !== shown ||
          row.exitCode !== ri.exitCode ||
          row.runtimeRef !== ri.ref ||
          !isDeepStrictEqual(row.cpuLimit ?? null, cpuLimit))
      ) {
        await this.instances.recordObserved(row.id, {
          status: shown,
          exitCode: ri.exitCode,
          lastSeenAt: now,
          runtimeRef: ri.ref,
          cpuLimit,
        });
      }
    }

    // An instance the runtime no longer lists is gone for good when it was draining or is not
    // wanted any more: a Kubernetes pod is deleted once it has drained or was scaled away (local
    // processes stay listed as exited until forgotten). Its row goes too, or the query would show
    // it DRAINING (or, after a pass that raced the deletion, RUNNING) forever.
    const listed = new Set(runtimeInstances.map((i) => i.name));
    const wanted = q.desiredState === 'RUNNING' ? q.desiredInstances : 0;
    const gone = q.instances
      .filter((r) => !listed.has(r.name))
      .filter((r) => r.status === 'DRAINING' || Number(r.name.slice(q.name.length + 1)) >= wanted)
      .map((r) => r.name);
    for (const name of gone) await this.instances.forget(queryId, name);

    const decision = decideReconcile(
      {
        name: q.name,
        generation: q.generation,
        desiredState: q.desiredState,
        desiredVersion: q.desiredVersion,
        desiredInstances: q.desiredInstances,
        failed: q.phase === 'FAILED',
        triggerIntervalMs: triggerIntervalMs(version.spec),
        lastProgressAt: q.lastProgressAt,
        lagRecords: this.lag.recordsBehind(queryId),
        failureMessage:
          q.phase === 'FAILED'
            ? (asStoredConditions(q.conditions).find((c) => c.type === 'Degraded' && c.reason === 'CrashLoop')
                ?.message ?? null)
            : null,
      },
      observed,
      crashTimes,
      now,
      { ...DEFAULT_RECONCILE_OPTIONS, stalledMinMs: this.config.SLUICE_STALLED_MIN_MS },
    );

    // Where a PostgreSQL sink writes is resolved at launch (a connection's variable may change);
    // when it cannot be, nothing starts and the condition says why.
    const sink = decision.actions.some((a) => a.type === 'start')
      ? await this.sinkTarget(version)
      : { url: null, tableUrls: {} };
    if (sink.error) {
      decision.conditions.push({
        type: 'SinkReady',
        status: 'False',
        reason: 'SinkConnectionUnavailable',
        message: sink.error,
      });
      decision.actions = decision.actions.filter((a) => a.type !== 'start');
    }

    // A missing source topic is only in the engine's log (it waits for the topic): the user can act
    // on it (create the topic, or fix the spec), so it is shown where they look.
    const missing = q.desiredState === 'RUNNING' ? this.lag.missingSourceTopics(queryId) : null;
    if (missing && missing.length > 0) decision.conditions.push(sourceTopicMissing(missing));

    // A sink that refuses (unreachable, credentials, table, missing topic) is otherwise only in the
    // engines' logs while they retry and the query reads Healthy: their progress says so.
    if (q.desiredState === 'RUNNING' && !decision.conditions.some((c) => c.type === 'SinkReady')) {
      const refused = await this.sinkRefusal(queryId, now);
      if (refused) decision.conditions.push(refused);
    }

    for (const a of decision.actions) {
      if (a.type === 'start') {
        const previous = rows.get(a.name);
        await this.runtime.start(this.launch(q, version, a.name, a.ordinal, sink));
        const wasCrash = observed.find((o) => o.name === a.name)?.status === 'CRASHED';
        await this.instances.recordStarting(queryId, a.name, {
          runtime: this.runtime.kind,
          at: now,
          restarts: (previous?.restarts ?? 0) + (wasCrash ? 1 : 0),
        });
      } else if (a.type === 'drain') {
        await this.runtime.drain(queryId, a.name);
        await this.instances.recordDraining(queryId, a.name);
      } else {
        await this.runtime.forget(queryId, a.name);
        await this.instances.forget(queryId, a.name);
      }
    }

    const live = observed.filter((o) => ['STARTING', 'RUNNING', 'DRAINING'].includes(o.status)).length;
    const target = q.desiredState === 'RUNNING' && decision.phase !== 'FAILED' ? q.desiredInstances : 0;
    const running = observed.filter((o) => o.status === 'RUNNING' && o.version === q.desiredVersion).length;
    const converged = decision.actions.length === 0 && decision.requeueAfterMs === null;
    const data: QueryStatus = {
      phase: decision.phase,
      conditions: mergeConditions(asStoredConditions(q.conditions), decision.conditions, now),
      // A stopped query has nothing to restart, so no crash loop to detect: its history goes,
      // and a later deploy or start begins counting afresh.
      crashTimes:
        decision.phase === 'STOPPED' ? [] : crashTimes.slice(-MAX_CRASH_HISTORY).map((t) => t.toISOString()),
    };
    if (converged) data.observedGeneration = q.generation;
    // lastGoodVersion is not written here: a version is good once its operation says so (an
    // upgrade after its health gate, a deploy once running; operations/good-versions.ts).
    // Status is written only when it changed (as Kubernetes controllers do): a resync of a
    // settled query is then reads only, and updatedAt keeps meaning "status last changed".
    const unchanged =
      data.phase === q.phase &&
      isDeepStrictEqual(data.conditions, q.conditions) &&
      isDeepStrictEqual(data.crashTimes, q.crashTimes ?? []) &&
      (data.observedGeneration === undefined || data.observedGeneration === q.observedGeneration);
    if (!unchanged) {
      // Only if no mutation (stop, start, deploy … each bumps generation) landed since this pass
      // read the query: a pass working from the old desired state must not write over what the
      // mutation just set (a start clearing FAILED, say). The next pass decides afresh.
      const written = await this.queries.recordStatus(queryId, q.generation, data);
      if (!written) {
        this.enqueue(queryId);
        return { ...decision, running, target, live };
      }
    }
    if (decision.requeueAfterMs !== null) this.enqueue(queryId, decision.requeueAfterMs);
    return { ...decision, running, target, live };
  }
}

function sourceTopicMissing(topics: string[]): Condition {
  const named = topics.map((t) => `"${t}"`).join(', ');
  return {
    type: 'SourceReady',
    status: 'False',
    reason: 'SourceTopicMissing',
    message:
      topics.length === 1
        ? `source topic ${named} does not exist; the engines wait for it (create it, or correct the spec)`
        : `source topics ${named} do not exist; the engines wait for them (create them, or correct the spec)`,
  };
}
