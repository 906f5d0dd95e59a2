// Query lifecycle: every change of desired state is one transaction that (1) locks the query row,
// (2) refuses when another operation is active (409 naming it), (3) bumps `generation`,
// (4) creates the Operation row and (5) writes the audit entry. The BullMQ job is enqueued after
// commit; if that fails the recovery sweep enqueues it.
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Prisma, Query } from '../generated/prisma/client';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { OperationQueueService } from '../operations/operation-queue.service';
import { OperationRepository } from '../operations/operation.repository';
import { STEPS, type OperationType } from '../operations/operation-types';
import { operationView } from '../operations/operation-view';
import { ReconcilerService } from '../reconcile/reconciler.service';
import { InstanceRepository } from '../repositories/instance.repository';
import { QueryRepository, type QueryWithInstances, type Tx } from '../repositories/query.repository';
import type { LogicalPlan } from '@sluice/query-plan';
import { compatibilityOf, compileStored, type StoredVersion } from './compatibility';
import { querySummary } from './query-view';
import { compileOrReject } from './spec-compiler';
import { checkStatefulModule } from './stateful-module-check';
import type { RoleName } from '../auth/roles';
import { SinkConnectionsService } from '../sinks/sink-connections.service';
import { clusterName } from '../leadership/cluster-name';
import { ownedOrConflict } from './query-ownership';
import type { Actor } from '../audit/actor';
import type {
  DeleteCommand,
  DeployCommand,
  RateLimitCommand,
  ScaleCommand,
  StartCommand,
  StopCommand,
} from './query-commands';

@Injectable()
export class QueriesService {
  /** The cluster this control plane belongs to: it registers queries for it and changes only its own. */
  private readonly cluster: string;

  // Collaborators are typed by the part this service uses (the token stays the class), so a unit
  // test can hand in typed fakes (test/support/fakes.ts, queries.service.spec.ts).
  constructor(
    @Inject(QueryRepository)
    private readonly repository: Pick<
      QueryRepository,
      | 'transaction'
      | 'findByName'
      | 'register'
      | 'addVersion'
      | 'listLive'
      | 'find'
      | 'findWithInstances'
      | 'lockForUpdate'
      | 'latestVersion'
      | 'findVersion'
      | 'findVersions'
      | 'listVersions'
      | 'changeDesired'
    >,
    @Inject(InstanceRepository) private readonly instances: Pick<InstanceRepository, 'listForQuery'>,
    @Inject(OperationRepository)
    private readonly operations: Pick<OperationRepository, 'create' | 'findActiveForQuery'>,
    @Inject(OperationQueueService) private readonly queue: Pick<OperationQueueService, 'enqueue'>,
    @Inject(ReconcilerService) private readonly reconciler: Pick<ReconcilerService, 'enqueue'>,
    @Inject(AuditService) private readonly audit: Pick<AuditService, 'record'>,
    @Inject(SinkConnectionsService)
    private readonly sinkConnections: Pick<SinkConnectionsService, 'checkSpec'>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.cluster = clusterName(config);
  }

  /**
   * Compiles the spec (422 with positions) and checks what only the control plane knows: its
   * sink and table connections, and whether `role` may deploy its stateful function's code.
   */
  private async accept(body: unknown, role: RoleName) {
    const compiled = compileOrReject(body);
    await checkStatefulModule(compiled.spec, compiled.specText, role, this.config.SLUICE_STATEFUL_MODULES);
    await this.sinkConnections.checkSpec(compiled.spec, compiled.specText);
    return compiled;
  }

  async create(body: unknown, actor: Actor, deploy: boolean, role: RoleName) {
    const compiled = await this.accept(body, role);
    const result = await this.repository.transaction(async (tx) => {
      const existing = await this.repository.findByName(compiled.name, tx);
      if (existing)
        throw new ConflictException({
          code: 'QUERY_EXISTS',
          message:
            existing.cluster === this.cluster
              ? `a query named "${compiled.name}" already exists (${existing.id})`
              : `a query named "${compiled.name}" already exists (${existing.id}) in cluster "${existing.cluster ?? '(not adopted yet)'}"; names are unique across the clusters of one database`,
        });
      const q = await this.repository.register(compiled.name, deploy, this.cluster, tx);
      await this.repository.addVersion(
        {
          queryId: q.id,
          version: 1,
          specText: compiled.specText,
          spec: compiled.spec,
          plan: compiled.plan,
          planHash: compiled.planHash,
          createdBy: actor.name,
        },
        tx,
      );
      await this.audit.record(
        { actor, action: 'query.create', target: `query/${q.id}`, after: { name: q.name, version: 1 } },
        tx,
      );
      const op = deploy
        ? await this.operations.create(
            {
              queryId: q.id,
              type: 'deploy',
              params: { version: 1 },
              requestedBy: actor.name,
              steps: steps('deploy'),
            },
            tx,
          )
        : null;
      return { q, op };
    });
    if (result.op) await this.queue.enqueue(result.op.id);
    this.reconciler.enqueue(result.q.id);
    return {
      id: result.q.id,
      name: result.q.name,
      version: 1,
      operation: result.op ? operationView(result.op) : null,
      warnings: compiled.warnings,
    };
  }

  /** This cluster's queries (another cluster's are listed by its own control planes). */
  list() {
    return this.repository.listLive(this.cluster).then((qs) => qs.map(querySummary));
  }

  /** The query with its instances, read as two parallel statements (one round trip of latency). */
  async getWithInstancesOrThrow(id: string) {
    const [q, instances] = await Promise.all([this.repository.find(id), this.instances.listForQuery(id)]);
    if (!q || q.deletedAt)
      throw new NotFoundException({ code: 'NOT_FOUND', message: `query ${id} not found` });
    return { ...q, instances };
  }

  async getOrThrow(id: string, tx?: Tx): Promise<QueryWithInstances> {
    return liveOrThrow(id, await this.repository.findWithInstances(id, tx));
  }

  async addVersion(id: string, body: unknown, actor: Actor, role: RoleName) {
    const compiled = await this.accept(body, role);
    const { created, running } = await this.repository.transaction(async (tx) => {
      const q = await this.lock(id, tx);
      if (compiled.name !== q.name) {
        throw new ConflictException({
          code: 'NAME_MISMATCH',
          message: `spec name "${compiled.name}" does not match query "${q.name}"`,
        });
      }
      const last = await this.repository.latestVersion(id, tx);
      const version = (last?.version ?? 0) + 1;
      await this.repository.addVersion(
        {
          queryId: id,
          version,
          specText: compiled.specText,
          spec: compiled.spec,
          plan: compiled.plan,
          planHash: compiled.planHash,
          createdBy: actor.name,
        },
        tx,
      );
      await this.audit.record(
        {
          actor,
          action: 'query.version.create',
          target: `query/${id}`,
          after: { version, planHash: compiled.planHash },
        },
        tx,
      );
      // The version the query runs (or would run when started): the checkpoint the new one would resume from.
      const running = await this.repository.findVersion(id, q.desiredVersion, tx);
      const created = {
        queryId: id,
        version,
        planHash: compiled.planHash,
        samePlanAsPrevious: last?.planHash === compiled.planHash,
        warnings: compiled.warnings,
      };
      return { created, running };
    });
    // Compiled after commit: the row lock is not held while the running version compiles again.
    const base = running && compileStored(compiled.name, running);
    if (!base) return { ...created, compatibility: null };
    if (!base.ok) {
      const warning = `compatibility not checked: ${(base.error.getResponse() as { message: string }).message}`;
      return { ...created, warnings: [...created.warnings, warning], compatibility: null };
    }
    const compatibility = compatibilityOf(running.version, base.compiled, {
      spec: compiled.spec,
      plan: compiled.plan as LogicalPlan,
    });
    return { ...created, compatibility };
  }

  /**
   * May `version` resume from the checkpoint of `against` (the desired version by default)? 404
   * naming every missing version; 409 naming a stored version that no longer compiles.
   */
  async compatibility(id: string, version: number, against?: number) {
    const q = await this.getOrThrow(id);
    const base = against ?? q.desiredVersion;
    const rows = await this.repository.findVersions(id, [base, version]);
    const missing = [...new Set([version, base])].filter((n) => !rows.some((r) => r.version === n));
    if (missing.length > 0) {
      throw new NotFoundException({
        code: 'VERSION_NOT_FOUND',
        message: `query ${q.name} has no version ${missing.join(' nor ')}`,
      });
    }
    const compile = (n: number) => {
      const result = compileStored(q.name, rows.find((r) => r.version === n) as StoredVersion);
      if (!result.ok) throw result.error;
      return result.compiled;
    };
    const before = compile(base);
    const after = compile(version);
    return { queryId: id, version, ...compatibilityOf(base, before, after) };
  }

  async versions(id: string) {
    await this.getOrThrow(id);
    const rows = await this.repository.listVersions(id);
    return rows.map((v) => ({
      version: v.version,
      planHash: v.planHash,
      createdAt: v.createdAt.toISOString(),
      createdBy: v.createdBy,
      specText: v.specText,
    }));
  }

  deploy(command: DeployCommand, actor: Actor) {
    const { queryId: id, version } = command;
    return this.mutate(id, 'deploy', { version }, actor, async (q, tx) => {
      const v = await this.repository.findVersion(id, version, tx);
      if (!v)
        throw new NotFoundException({
          code: 'VERSION_NOT_FOUND',
          message: `query ${q.name} has no version ${version}`,
        });
      // A deploy is a fresh start, as `start` is: the crash history of what ran before (perhaps
      // a FAILED version) must not put the new rollout straight back into FAILED.
      return { desiredVersion: version, desiredState: 'RUNNING', phase: 'DEPLOYING', crashTimes: [] };
    });
  }

  scale(command: ScaleCommand, actor: Actor) {
    const { queryId, instances } = command;
    return this.mutate(queryId, 'scale', { instances }, actor, async () => ({ desiredInstances: instances }));
  }

  rateLimit(command: RateLimitCommand, actor: Actor) {
    const { queryId, maxOffsetsPerTrigger } = command;
    return this.mutate(queryId, 'rate-limit', { maxOffsetsPerTrigger }, actor, async () => ({
      rateLimit: maxOffsetsPerTrigger,
    }));
  }

  stop(command: StopCommand, actor: Actor) {
    return this.mutate(command.queryId, 'stop', {}, actor, async () => ({ desiredState: 'STOPPED' }));
  }

  start(command: StartCommand, actor: Actor) {
    // Starting clears a FAILED crash loop: the operator asked for another try.
    return this.mutate(command.queryId, 'start', {}, actor, async () => ({
      desiredState: 'RUNNING',
      phase: 'DEPLOYING',
      crashTimes: [],
    }));
  }

  remove(command: DeleteCommand, actor: Actor) {
    return this.mutate(command.queryId, 'delete', {}, actor, async () => ({ desiredState: 'STOPPED' }));
  }

  private async lock(id: string, tx: Tx): Promise<Query> {
    // Row lock: concurrent mutations of one query serialise here, so the 409 checks are race-free.
    return ownedOrConflict(liveOrThrow(id, await this.repository.lockForUpdate(id, tx)), this.cluster);
  }

  private async mutate(
    id: string,
    type: OperationType,
    params: Record<string, unknown>,
    actor: Actor,
    apply: (q: Query, tx: Tx) => Promise<Prisma.QueryUpdateInput>,
  ) {
    const op = await this.repository.transaction(async (tx) => {
      const q = await this.lock(id, tx);
      const active = await this.operations.findActiveForQuery(id, tx);
      if (active) {
        throw new ConflictException({
          code: 'OPERATION_IN_PROGRESS',
          message: `query ${q.name} already has operation ${active.id} (${active.type}, ${active.state}); wait for it to finish`,
          operationId: active.id,
        });
      }
      const change = await apply(q, tx);
      const after = await this.repository.changeDesired(id, change, tx);
      await this.audit.record(
        {
          actor,
          action: `query.${type}`,
          target: `query/${id}`,
          before: querySummary(q),
          after: querySummary(after),
        },
        tx,
      );
      return this.operations.create(
        { queryId: id, type, params, requestedBy: actor.name, steps: steps(type) },
        tx,
      );
    });
    await this.queue.enqueue(op.id);
    this.reconciler.enqueue(id);
    return operationView(op);
  }

  get maxInstances(): number {
    return this.config.SLUICE_MAX_INSTANCES;
  }
}

function steps(type: OperationType) {
  return STEPS[type].map((name) => ({ name, state: 'pending' as const }));
}

/** Throws 404 unless `q` is a query that is not deleted. */
function liveOrThrow(id: string, q: QueryWithInstances | null): QueryWithInstances {
  if (!q || q.deletedAt) throw new NotFoundException({ code: 'NOT_FOUND', message: `query ${id} not found` });
  return q;
}
