// In-memory fakes of the control plane's repositories and collaborators, for unit tests of the
// services over them (as immich's service specs run over typed repository mocks). Each fake
// `implements` the public shape of the real class (Port<T>), so a method added or changed there
// fails to compile here instead of drifting; nothing is cast.
import { ConflictException } from '@nestjs/common';
import type { ScalingPolicy } from '@sluice/scaling';
import type { Actor } from '../../src/audit/actor';
import type { PartitionLag } from '../../src/lag/lag.service';
import { Clock } from '../../src/clock/clock';
import { operationView } from '../../src/operations/operation-view';
import type { QueriesService } from '../../src/queries/queries.service';
import type { ScaleCommand } from '../../src/queries/query-commands';
import type { ScalingPolicies } from '../../src/scaling/scaling-policies';
import type {
  Instance,
  Operation,
  ProgressEvent,
  Query,
  QueryVersion,
  ScalingEvent,
} from '../../src/generated/prisma/client';
import type { ControlPublisher } from '../../src/control/control-publisher.service';
import type { InstanceRepository, ObservedInstanceRow } from '../../src/repositories/instance.repository';
import type { LagService } from '../../src/lag/lag.service';
import type { LeaderElection } from '../../src/leadership/leader-election.service';
import type { OperationRepository } from '../../src/operations/operation.repository';
import type {
  ProgressBatchRow,
  ProgressEventRow,
  ProgressRepository,
} from '../../src/repositories/progress.repository';
import type {
  GoodVersionsChange,
  NewVersion,
  QueryRepository,
  ScalingSettingsChange,
  QueryStatus,
  QueryWithInstances,
} from '../../src/repositories/query.repository';
import type {
  ScalingDecisionRecord,
  ScalingEventRepository,
} from '../../src/repositories/scaling-event.repository';
import type { InstanceLaunch, RuntimeDriver, RuntimeInstance } from '../../src/runtime/runtime-driver';
import type { SinkConnectionsService } from '../../src/sinks/sink-connections.service';

/** The public members of T (what a caller can use), without its private fields. */
export type Port<T> = { [K in keyof T]: T[K] };

/** A clock that moves only when told. */
export class FakeClock extends Clock {
  constructor(private ms = Date.parse('2026-01-01T00:00:00Z')) {
    super();
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

let nextId = 1;
const newId = (): string => `00000000-0000-4000-8000-${String(nextId++).padStart(12, '0')}`;

/** The cluster the fakes' queries belong to; a service under test runs with SLUICE_CLUSTER_NAME set to it. */
export const FAKE_CLUSTER = 'fake-cluster';

/** A query row with the schema's defaults (owned by FAKE_CLUSTER), overridden by `fields`. */
export function queryRow(fields: Partial<Query> & { name: string }): Query {
  const at = new Date('2026-01-01T00:00:00Z');
  return {
    id: newId(),
    generation: 1,
    observedGeneration: 0,
    desiredState: 'RUNNING',
    desiredVersion: 1,
    desiredInstances: 1,
    rateLimit: null,
    cpuLimit: null,
    phase: 'PENDING',
    conditions: [],
    lastProgressAt: null,
    crashTimes: [],
    lastGoodVersion: null,
    checkpointEpoch: 0,
    checkpoints: [],
    lastGoodCheckpointEpoch: null,
    previousGoodVersion: null,
    previousGoodCheckpointEpoch: null,
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
    scalingPolicy: 'sluice',
    scalingMode: 'observe',
    minInstances: 1,
    maxInstances: null,
    backpressure: true,
    cluster: FAKE_CLUSTER,
    ...fields,
  };
}

/** Queries and versions in memory; transactions are the one part left to the real database. */
export class InMemoryQueryRepository implements Omit<Port<QueryRepository>, 'transaction'> {
  readonly queries = new Map<string, Query>();
  readonly versions: QueryVersion[] = [];
  /** Every status write, in order (what the reconciler wrote). */
  readonly statusWrites: Array<{ id: string; status: QueryStatus }> = [];

  constructor(private readonly instances: InMemoryInstanceRepository) {}

  /** Adds a query with its version 1 (spec text and parsed spec as given). */
  add(query: Query, spec: { specText: string; spec: unknown }): Query {
    this.queries.set(query.id, query);
    this.versions.push({
      id: newId(),
      queryId: query.id,
      version: query.desiredVersion,
      specText: spec.specText,
      spec: spec.spec as QueryVersion['spec'],
      plan: {},
      planHash: 'test',
      createdAt: query.createdAt,
      createdBy: 'test',
    });
    return query;
  }

  private live(): Query[] {
    return [...this.queries.values()].filter((q) => q.deletedAt === null);
  }

  async listLive(cluster: string): Promise<Query[]> {
    return this.live()
      .filter((q) => q.cluster === cluster)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }
  async listLiveIds(cluster: string): Promise<string[]> {
    return this.live()
      .filter((q) => q.cluster === cluster)
      .map((q) => q.id);
  }
  async pageIds(cluster: string, afterId: string | null, limit: number): Promise<string[]> {
    return [...this.queries.values()]
      .filter((q) => q.cluster === cluster && (afterId === null || q.id > afterId))
      .map((q) => q.id)
      .sort()
      .slice(0, limit);
  }
  async listWantedRunning(cluster: string): Promise<Query[]> {
    return this.live().filter((q) => q.cluster === cluster && q.desiredState === 'RUNNING');
  }
  /** As the real one: unowned queries whose instances all ran on `runtime` become `cluster`'s. */
  async adoptUnowned(cluster: string, runtime: string): Promise<number> {
    let adopted = 0;
    for (const q of this.queries.values()) {
      if (q.cluster !== null) continue;
      const instances = await this.instances.listForQuery(q.id);
      if (instances.some((i) => i.runtime !== runtime)) continue;
      this.queries.set(q.id, { ...q, cluster });
      adopted++;
    }
    return adopted;
  }
  async findWithInstances(id: string): Promise<QueryWithInstances | null> {
    const q = this.queries.get(id);
    return q ? { ...q, instances: await this.instances.listForQuery(id) } : null;
  }
  async find(id: string): Promise<Query | null> {
    return this.queries.get(id) ?? null;
  }
  async findOrThrow(id: string): Promise<Query> {
    const q = this.queries.get(id);
    if (!q) throw new Error(`no query ${id}`);
    return q;
  }
  async nameOf(id: string): Promise<string | null> {
    return this.queries.get(id)?.name ?? null;
  }
  async recordGoodVersions(id: string, change: GoodVersionsChange): Promise<void> {
    const q = this.queries.get(id);
    if (q) this.queries.set(id, { ...q, ...change });
  }
  async updateScaling(id: string, settings: ScalingSettingsChange): Promise<Query> {
    const q = await this.findOrThrow(id);
    const after = { ...q, ...settings };
    this.queries.set(id, after);
    return after;
  }
  async findByName(name: string): Promise<Query | null> {
    return [...this.queries.values()].find((q) => q.name === name) ?? null;
  }
  async lockForUpdate(id: string): Promise<QueryWithInstances | null> {
    return this.findWithInstances(id);
  }
  async register(name: string, deploy: boolean, cluster: string): Promise<Query> {
    const q = queryRow({
      name,
      cluster,
      desiredState: deploy ? 'RUNNING' : 'STOPPED',
      phase: deploy ? 'DEPLOYING' : 'STOPPED',
    });
    this.queries.set(q.id, q);
    return q;
  }
  async changeDesired(): Promise<Query> {
    throw new Error(
      'InMemoryQueryRepository.changeDesired: mutations run on the real database (queries.int.ts)',
    );
  }
  async markDeleted(id: string): Promise<void> {
    const q = this.queries.get(id);
    if (q) this.queries.set(id, { ...q, deletedAt: new Date(), name: `deleted-${id}` });
  }
  async recordStatus(id: string, generation: number, status: QueryStatus): Promise<boolean> {
    const q = this.queries.get(id);
    if (!q || q.generation !== generation) return false;
    this.statusWrites.push({ id, status });
    this.queries.set(id, {
      ...q,
      phase: status.phase,
      conditions: structuredClone(status.conditions) as Query['conditions'],
      crashTimes: [...status.crashTimes],
      observedGeneration: status.observedGeneration ?? q.observedGeneration,
    });
    return true;
  }
  async addVersion(v: NewVersion): Promise<void> {
    this.versions.push({
      id: newId(),
      ...v,
      spec: v.spec as QueryVersion['spec'],
      plan: v.plan as QueryVersion['plan'],
      createdAt: new Date(),
    });
  }
  async findVersion(queryId: string, version: number): Promise<QueryVersion | null> {
    return this.versions.find((v) => v.queryId === queryId && v.version === version) ?? null;
  }
  async latestVersion(queryId: string): Promise<QueryVersion | null> {
    return (await this.listVersions(queryId)).at(-1) ?? null;
  }
  async findVersions(queryId: string, versions: number[]): Promise<QueryVersion[]> {
    return this.versions.filter((v) => v.queryId === queryId && versions.includes(v.version));
  }
  async listVersions(queryId: string): Promise<QueryVersion[]> {
    return this.versions.filter((v) => v.queryId === queryId).sort((a, b) => a.version - b.version);
  }
}

export class InMemoryInstanceRepository implements Port<InstanceRepository> {
  readonly rows: Instance[] = [];
  /** Every write, in order, named by method (how a test sees that a pass wrote nothing). */
  readonly writes: string[] = [];

  constructor(private readonly clock: Clock) {}

  async listForQuery(queryId: string): Promise<Instance[]> {
    return this.rows.filter((r) => r.queryId === queryId).map((r) => ({ ...r }));
  }
  async recordObserved(id: string, observed: ObservedInstanceRow): Promise<void> {
    this.writes.push(`observed ${id}`);
    const row = this.rows.find((r) => r.id === id);
    if (row) Object.assign(row, observed);
  }
  async recordStarting(
    queryId: string,
    name: string,
    start: { runtime: string; at: Date; restarts: number },
  ): Promise<void> {
    this.writes.push(`starting ${name}`);
    const row = this.rows.find((r) => r.queryId === queryId && r.name === name);
    if (row) {
      Object.assign(row, {
        status: 'STARTING',
        startedAt: start.at,
        exitCode: null,
        restarts: start.restarts,
      });
      return;
    }
    this.rows.push({
      id: newId(),
      queryId,
      deploymentId: null,
      name,
      runtime: start.runtime,
      runtimeRef: null,
      status: 'STARTING',
      restarts: 0,
      cpuLimit: null,
      exitCode: null,
      startedAt: this.clock.now(),
      lastSeenAt: null,
    });
  }
  async recordDraining(queryId: string, name: string): Promise<void> {
    this.writes.push(`draining ${name}`);
    for (const r of this.rows) if (r.queryId === queryId && r.name === name) r.status = 'DRAINING';
  }
  async forget(queryId: string, name: string): Promise<void> {
    this.writes.push(`forget ${name}`);
    const i = this.rows.findIndex((r) => r.queryId === queryId && r.name === name);
    if (i >= 0) this.rows.splice(i, 1);
  }
}

export class InMemoryProgressRepository implements Port<ProgressRepository> {
  readonly batches = new Map<string, ProgressBatchRow[]>();

  async batchesSince(queryId: string, since: Date, limit: number): Promise<ProgressBatchRow[]> {
    const rows = (this.batches.get(queryId) ?? []).filter((b) => b.timestamp >= since);
    return rows.sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime()).slice(-limit);
  }

  async latestSinkErrors(
    queryId: string,
    since: Date,
  ): Promise<Array<{ instance: string | null; sinkError: string | null }>> {
    const newest = new Map<string | null, ProgressBatchRow>();
    for (const b of this.batches.get(queryId) ?? []) {
      if (b.timestamp < since) continue;
      const seen = newest.get(b.instance);
      if (!seen || seen.timestamp < b.timestamp) newest.set(b.instance, b);
    }
    return [...newest.values()].map((b) => {
      const sluice = (b.payload as { sluice?: { sinkError?: unknown } } | null)?.sluice;
      return {
        instance: b.instance,
        sinkError: typeof sluice?.sinkError === 'string' ? sluice.sinkError : null,
      };
    });
  }

  async eventsSince(queryId: string, since: Date, limit = 5_000): Promise<ProgressEventRow[]> {
    return (await this.batchesSince(queryId, since, Number.MAX_SAFE_INTEGER)).slice(0, limit);
  }
  private ordered(queryId: string): ProgressBatchRow[] {
    return [...(this.batches.get(queryId) ?? [])].sort(
      (x, y) => x.timestamp.getTime() - y.timestamp.getTime(),
    );
  }
  async latest(queryId: string): Promise<ProgressEvent | null> {
    const rows = this.ordered(queryId);
    const b = rows.at(-1);
    return b
      ? {
          id: BigInt(rows.length),
          queryId,
          runId: b.runId,
          batchId: BigInt(rows.length - 1),
          instance: b.instance,
          timestamp: b.timestamp,
          numInputRows: BigInt(b.numInputRows),
          inputRowsPerSecond: null,
          processedRowsPerSecond: null,
          batchDurationMs: b.batchDurationMs,
          payload: b.payload as ProgressEvent['payload'],
          receivedAt: b.timestamp,
        }
      : null;
  }
  async payloads(queryId: string, since: Date | undefined, limit: number): Promise<unknown[]> {
    const rows = this.ordered(queryId);
    const picked = since ? rows.filter((b) => b.timestamp > since) : rows.reverse();
    return picked.slice(0, limit).map((b) => b.payload);
  }
  async trimToNewest(queryId: string, keep: number, max: number): Promise<number> {
    const rows = this.ordered(queryId);
    const gone = Math.min(max, Math.max(0, rows.length - keep));
    this.batches.set(
      queryId,
      rows.slice(0, rows.length - keep - gone).concat(rows.slice(rows.length - keep)),
    );
    return gone;
  }
}

export class InMemoryScalingEventRepository implements Port<ScalingEventRepository> {
  readonly events: ScalingDecisionRecord[] = [];

  async record(decision: ScalingDecisionRecord): Promise<void> {
    this.events.push(decision);
  }
  async lastScale(queryId: string, since: Date): Promise<{ at: Date; direction: 'up' | 'down' } | null> {
    const scaled = this.events.filter(
      (e) => e.queryId === queryId && e.acted && e.inputs.scaled === true && e.at > since,
    );
    const last = scaled.at(-1);
    return last ? { at: last.at, direction: last.direction === 'down' ? 'down' : 'up' } : null;
  }
  async newest(queryId: string, limit: number): Promise<ScalingEvent[]> {
    return this.events
      .map((e, i): ScalingEvent => ({
        ...e,
        id: BigInt(i + 1),
        rateLimit: e.rateLimit,
        inputs: { ...e.inputs },
      }))
      .filter((e) => e.queryId === queryId)
      .sort((a, b) => b.at.getTime() - a.at.getTime() || Number(b.id - a.id))
      .slice(0, limit);
  }
  async deleteBefore(before: Date): Promise<void> {
    const kept = this.events.filter((e) => e.at >= before);
    this.events.splice(0, this.events.length, ...kept);
  }
}

/** The active operation per query, as a test sets it. */
export class FakeOperations implements Pick<OperationRepository, 'findActiveForQuery' | 'create'> {
  readonly active = new Map<string, Operation>();
  /** Every operation created, in order. */
  readonly created: Operation[] = [];
  async findActiveForQuery(queryId: string): Promise<Operation | null> {
    return this.active.get(queryId) ?? null;
  }
  async create(input: Parameters<OperationRepository['create']>[0]): Promise<Operation> {
    const op = operationRow({
      queryId: input.queryId,
      type: input.type,
      requestedBy: input.requestedBy,
      // Stored as JSON, as the real repository stores them.
      params: JSON.parse(JSON.stringify(input.params)) as Operation['params'],
      steps: JSON.parse(JSON.stringify(input.steps)) as Operation['steps'],
    });
    this.created.push(op);
    this.active.set(input.queryId, op);
    return op;
  }
}

/** Consumer lag per query, as a test sets it. */
export class FakeLag implements Pick<
  LagService,
  'lagOf' | 'joinedInstances' | 'recordsBehind' | 'missingSourceTopics'
> {
  readonly partitions = new Map<string, PartitionLag[]>();
  readonly missing = new Map<string, string[]>();
  /** The Stable group's engine members per query; absent = the group says nothing. */
  readonly joined = new Map<string, ReadonlySet<string>>();
  async joinedInstances(q: { id: string }): Promise<ReadonlySet<string> | undefined> {
    return this.joined.get(q.id);
  }
  missingSourceTopics(queryId: string): string[] | null {
    return this.missing.get(queryId) ?? null;
  }
  async lagOf(queryId: string): Promise<PartitionLag[]> {
    return this.partitions.get(queryId) ?? [];
  }
  recordsBehind(queryId: string): number | null {
    const lag = this.partitions.get(queryId);
    return lag ? lag.reduce((n, p) => n + p.recordsBehind, 0) : null;
  }
}

/** Records the rate limits sent to a query's engines. */
export class FakeControl implements Pick<ControlPublisher, 'setRateLimit'> {
  readonly sent: Array<{ queryId: string; maxOffsetsPerTrigger: number | null }> = [];
  async setRateLimit(queryId: string, maxOffsetsPerTrigger: number | null): Promise<string> {
    this.sent.push({ queryId, maxOffsetsPerTrigger });
    return `command-${this.sent.length}`;
  }
}

export class FakeLeadership implements Pick<LeaderElection, 'isLeader'> {
  isLeader = true;
}

/** Sinks that are not PostgreSQL need no connection: every spec resolves to none. */
export class FakeSinkConnections implements Pick<SinkConnectionsService, 'sinkUrlFor' | 'tableUrlsFor'> {
  async sinkUrlFor(): Promise<string | null> {
    return null;
  }
  async tableUrlsFor(): Promise<Record<string, string>> {
    return {};
  }
}

/** Instances as a runtime driver would show them; start/drain/forget change them as processes would. */
export class FakeRuntime implements RuntimeDriver {
  readonly kind = 'local';
  readonly instances = new Map<string, RuntimeInstance & { queryId: string }>();
  readonly calls: string[] = [];

  async start(launch: InstanceLaunch): Promise<RuntimeInstance> {
    this.calls.push(`start ${launch.instanceName}`);
    const i = {
      queryId: launch.queryId,
      name: launch.instanceName,
      ref: `pid-${launch.instanceName}`,
      version: launch.version,
      state: 'running' as const,
      exitCode: null,
      drained: false,
      exitedAt: null,
    };
    this.instances.set(launch.instanceName, i);
    return i;
  }
  async drain(_queryId: string, name: string): Promise<void> {
    this.calls.push(`drain ${name}`);
    const i = this.instances.get(name);
    if (i) i.drained = true;
  }
  async kill(_queryId: string, name: string): Promise<void> {
    this.calls.push(`kill ${name}`);
    this.instances.delete(name);
  }
  async list(queryId: string): Promise<RuntimeInstance[]> {
    return [...this.instances.values()].filter((i) => i.queryId === queryId).map((i) => ({ ...i }));
  }
  async forget(_queryId: string, name: string): Promise<void> {
    this.calls.push(`forget ${name}`);
    this.instances.delete(name);
  }
  async remove(queryId: string): Promise<void> {
    this.calls.push(`remove ${queryId}`);
  }
  /** The instance's process exits with `code` at `at` (a crash unless drained or code 0). */
  exit(name: string, code: number, at: Date, lastError: string | null = null): void {
    const i = this.instances.get(name);
    if (i) Object.assign(i, { state: 'exited', exitCode: code, exitedAt: at, lastError });
  }
}

/** The policy each query name gets; a test scripts their decisions. */
export class FakePolicies implements Port<ScalingPolicies> {
  readonly byName = new Map<string, ScalingPolicy>();
  create(name: string): ScalingPolicy {
    const policy = this.byName.get(name);
    if (!policy) throw new Error(`FakePolicies: no policy named ${name}`);
    return policy;
  }
}

/** An operation row with the schema's defaults. */
export function operationRow(fields: Partial<Operation> & Pick<Operation, 'queryId' | 'type'>): Operation {
  return {
    id: newId(),
    state: 'QUEUED',
    progress: 0,
    steps: [],
    params: {},
    error: null,
    requestedBy: 'test',
    attempts: 0,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    startedAt: null,
    finishedAt: null,
    ...fields,
  };
}

/**
 * The scale operation as QueriesService runs it, reduced to its effect on the query row (the
 * transaction, audit and job are covered by queries.int.ts). `busy` answers 409 as an active
 * operation would.
 */
export class FakeScaler implements Pick<QueriesService, 'scale' | 'maxInstances'> {
  readonly requests: Array<{ queryId: string; instances: number; actor: string }> = [];
  busy = false;

  constructor(
    private readonly queries: InMemoryQueryRepository,
    readonly maxInstances = 64,
  ) {}

  async scale(command: ScaleCommand, actor: Actor): ReturnType<QueriesService['scale']> {
    const id = command.queryId;
    if (this.busy) throw new ConflictException({ code: 'OPERATION_IN_PROGRESS', message: 'busy' });
    this.requests.push({ queryId: id, instances: command.instances, actor: actor.id });
    const q = this.queries.queries.get(id);
    if (q)
      this.queries.queries.set(id, {
        ...q,
        desiredInstances: command.instances,
        generation: q.generation + 1,
      });
    return operationView(
      operationRow({ queryId: id, type: 'scale', params: { instances: command.instances } }),
    );
  }
}
