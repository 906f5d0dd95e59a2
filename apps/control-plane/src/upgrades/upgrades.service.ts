// POST /queries/:id/upgrade and /rollback: decide what is allowed (compatibility, strategy, a
// rollback target), then record the operation in one transaction with the same guards as every
// mutation (row lock, one active operation per query, audit). The operation does the rest
// (upgrade-executor.ts).
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { continueBlockers, instantiate, type CompiledVersion, type LogicalPlan } from '@sluice/query-plan';
import type { Query } from '../generated/prisma/client';
import type { Actor } from '../audit/actor';
import { AuditService } from '../audit/audit.service';
import { OperationQueueService } from '../operations/operation-queue.service';
import { OperationRepository } from '../operations/operation.repository';
import { STEPS, UPGRADE_PAUSE_STEP, type OperationType } from '../operations/operation-types';
import { operationView } from '../operations/operation-view';
import { compatibilityOf, compileStored } from '../queries/compatibility';
import { querySummary } from '../queries/query-view';
import { ownedOrConflict } from '../queries/query-ownership';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { clusterName } from '../leadership/cluster-name';
import { ReconcilerService } from '../reconcile/reconciler.service';
import { QueryRepository, type Tx } from '../repositories/query.repository';
import {
  checkpointRecords,
  describeTarget,
  nextCheckpointEpoch,
  type VersionOnCheckpoint,
} from '../runtime/checkpoint-lineage';
import { desiredTarget, rollbackTarget } from '../operations/good-versions';
import { DEFAULT_HEALTH_GATE } from './health-gate';
import type { RollbackParams, UpgradeParams } from './upgrade-executor';
import type { RollbackBody, UpgradeBody } from './upgrade.dto';

@Injectable()
export class UpgradesService {
  constructor(
    private readonly queries: QueryRepository,
    private readonly operations: OperationRepository,
    private readonly queue: OperationQueueService,
    private readonly reconciler: ReconcilerService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async upgrade(id: string, body: UpgradeBody, actor: Actor) {
    if (body.strategy === 'in-place' && body.startingOffsets !== undefined)
      throw new BadRequestException({
        code: 'VALIDATION_FAILED',
        message: 'startingOffsets: only a new-checkpoint upgrade chooses where it starts',
        errors: [{ path: 'startingOffsets', message: 'only with strategy new-checkpoint' }],
      });
    const q = await this.getOrThrow(id);
    await this.assertIdle(q);
    this.assertRunnable(q);
    if (body.version === q.desiredVersion)
      throw new ConflictException({
        code: 'SAME_VERSION',
        message: `query ${q.name} already runs version ${body.version}; to restart it on a new checkpoint, add the spec again as a new version`,
      });
    const [before, after] = await this.compile(q, [q.desiredVersion, body.version]);
    const compatibility = compatibilityOf(q.desiredVersion, before, after);
    if (body.strategy === 'in-place' && !compatibility.compatible && !body.force)
      throw new ConflictException({
        code: 'UPGRADE_INCOMPATIBLE',
        message: `version ${body.version} cannot resume from the checkpoint of version ${q.desiredVersion}: ${compatibility.changes
          .filter((c) => c.severity === 'incompatible')
          .map((c) => c.message)
          .join(
            '; ',
          )}. Upgrade with strategy new-checkpoint (a fresh checkpoint), or force an in-place upgrade`,
        compatibility,
      });
    const startingOffsets = body.strategy === 'new-checkpoint' ? (body.startingOffsets ?? 'continue') : null;
    // A continue reads where the old version stopped from its commit markers, which a sink in
    // another database does not have: refused (force does not apply, it is about the checkpoint).
    const blockers = startingOffsets === 'continue' ? continueBlockers(compatibility) : [];
    if (blockers.length > 0)
      throw new ConflictException({
        code: 'SINK_CONNECTION_CHANGED',
        message: `version ${body.version} writes to another sink database (${blockers
          .map((c) => `${c.path}: ${c.before} → ${c.after}`)
          .join(
            '; ',
          )}) than version ${q.desiredVersion}, whose commit markers stay in the old one: a new checkpoint cannot continue exactly from the old offsets. Upgrade with startingOffsets earliest or latest, or in place`,
        compatibility,
      });
    const from = desiredTarget(q);
    const to: VersionOnCheckpoint = {
      version: body.version,
      checkpointEpoch:
        body.strategy === 'in-place'
          ? q.checkpointEpoch
          : nextCheckpointEpoch(checkpointRecords(q.checkpoints), q.checkpointEpoch),
    };
    // Rows the old source stage repartitioned but its shuffle stage has not aggregated belong to
    // neither checkpoint: a stateful query continuing on a new one flushes them first.
    const flush = startingOffsets === 'continue' && instantiate(before.plan).kind !== 'stateless';
    const params: UpgradeParams = {
      version: body.version,
      strategy: body.strategy,
      startingOffsets,
      healthGate: { ...DEFAULT_HEALTH_GATE, ...body.healthGate },
      force: body.force,
      from,
      to,
      instances: q.desiredInstances,
      flush,
      compatibility,
    };
    const steps = STEPS.upgrade.flatMap((name, i) =>
      i === 1 && flush ? [UPGRADE_PAUSE_STEP, name] : [name],
    );
    return this.record(id, from, 'upgrade', params, steps, actor, {
      version: body.version,
      strategy: body.strategy,
      startingOffsets,
      checkpointEpoch: to.checkpointEpoch,
      compatible: compatibility.compatible,
      force: body.force,
    });
  }

  async rollback(id: string, body: RollbackBody, actor: Actor) {
    const q = await this.getOrThrow(id);
    await this.assertIdle(q);
    this.assertRunnable(q);
    const target = rollbackTarget(q);
    if (!target || target.version === q.desiredVersion)
      throw new ConflictException({
        code: 'NO_ROLLBACK_TARGET',
        message: `query ${q.name} has no good version to roll back to (it runs ${describeTarget(desiredTarget(q))}; last good: ${q.lastGoodVersion ?? 'none'})`,
      });
    // On the same checkpoint, the rollback version resumes from state the current one wrote.
    if (target.checkpointEpoch === q.checkpointEpoch && !body.force) {
      const [before, after] = await this.compile(q, [q.desiredVersion, target.version]);
      const compatibility = compatibilityOf(q.desiredVersion, before, after);
      if (!compatibility.compatible)
        throw new ConflictException({
          code: 'ROLLBACK_INCOMPATIBLE',
          message: `version ${target.version} cannot resume from the checkpoint version ${q.desiredVersion} has written; roll back with force to do it anyway`,
          compatibility,
        });
    }
    const params: RollbackParams = { from: desiredTarget(q), to: target };
    return this.record(id, params.from, 'rollback', params, STEPS.rollback, actor, {
      version: target.version,
      checkpointEpoch: target.checkpointEpoch,
    });
  }

  /** The operation row and its audit entry, in one transaction that re-checks what was decided. */
  private async record(
    id: string,
    decidedFrom: VersionOnCheckpoint,
    type: OperationType,
    params: UpgradeParams | RollbackParams,
    stepNames: string[],
    actor: Actor,
    after: Record<string, unknown>,
  ) {
    const op = await this.queries.transaction(async (tx) => {
      const q = await this.lock(id, tx);
      await this.assertIdle(q, tx);
      if (q.desiredVersion !== decidedFrom.version || q.checkpointEpoch !== decidedFrom.checkpointEpoch)
        throw new ConflictException({
          code: 'CONFLICT',
          message: `query ${q.name} changed while the request was checked (it now runs ${describeTarget(desiredTarget(q))}); try again`,
        });
      await this.audit.record(
        { actor, action: `query.${type}`, target: `query/${id}`, before: querySummary(q), after },
        tx,
      );
      return this.operations.create(
        {
          queryId: id,
          type,
          params: params as unknown as Record<string, unknown>,
          requestedBy: actor.name,
          steps: stepNames.map((name) => ({ name, state: 'pending' as const })),
        },
        tx,
      );
    });
    await this.queue.enqueue(op.id);
    this.reconciler.enqueue(id);
    return operationView(op);
  }

  /** One operation per query: checked first (an upgrade in flight changes what else would be said), and again under the lock. */
  private async assertIdle(q: Query, tx?: Tx): Promise<void> {
    const active = await this.operations.findActiveForQuery(q.id, tx);
    if (active)
      throw new ConflictException({
        code: 'OPERATION_IN_PROGRESS',
        message: `query ${q.name} already has operation ${active.id} (${active.type}, ${active.state}); wait for it to finish`,
        operationId: active.id,
      });
  }

  private assertRunnable(q: Query): void {
    if (q.desiredState !== 'RUNNING')
      throw new ConflictException({
        code: 'QUERY_NOT_RUNNING',
        message: `query ${q.name} is stopped: deploy the version (POST /deploy) or start the query first`,
      });
  }

  private async compile(q: Query, versions: [number, number]): Promise<[CompiledVersion, CompiledVersion]> {
    const rows = await this.queries.findVersions(q.id, versions);
    const missing = [...new Set(versions)].filter((n) => !rows.some((r) => r.version === n));
    if (missing.length > 0)
      throw new NotFoundException({
        code: 'VERSION_NOT_FOUND',
        message: `query ${q.name} has no version ${missing.join(' nor ')}`,
      });
    return versions.map((n) => {
      const result = compileStored(
        q.name,
        rows.find((r) => r.version === n)!,
      );
      if (!result.ok) throw result.error;
      return { spec: result.compiled.spec, plan: result.compiled.plan as LogicalPlan };
    }) as [CompiledVersion, CompiledVersion];
  }

  private async getOrThrow(id: string): Promise<Query> {
    const q = await this.queries.find(id);
    if (!q || q.deletedAt)
      throw new NotFoundException({ code: 'NOT_FOUND', message: `query ${id} not found` });
    return q;
  }

  private async lock(id: string, tx: Tx): Promise<Query> {
    const q = await this.queries.lockForUpdate(id, tx);
    if (!q || q.deletedAt)
      throw new NotFoundException({ code: 'NOT_FOUND', message: `query ${id} not found` });
    // Only the owning cluster's control planes run its operations (query-ownership.ts).
    return ownedOrConflict(q, clusterName(this.config));
  }
}
