// Executes one operation: walks its steps, reports progress, and finishes SUCCEEDED or FAILED.
// Every step is idempotent (desired state is already recorded; reconcile is level-triggered), so
// a job re-run after a control-plane crash or a Redis outage simply continues.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { checkpointScope, dlqTopic, fileSourceTopicPrefix, repartitionTopic } from '@sluice/contracts';
import type { Operation, Prisma } from '../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ControlPublisher } from '../control/control-publisher.service';
import { QueryMetrics } from '../metrics/query-metrics';
import { ReconcilerService, type ReconcileResult } from '../reconcile/reconciler.service';
import { KafkaAdminRepository } from '../repositories/kafka-admin.repository';
import { ProgressRepository } from '../repositories/progress.repository';
import { QueryRepository } from '../repositories/query.repository';
import { acknowledgements } from '../progress/command-acknowledgements';
import { RUNTIME_DRIVER, type RuntimeDriver } from '../runtime/runtime-driver';
import { NotLeaderError } from '../leadership/not-leader.error';
import { checkpointRecords } from '../runtime/checkpoint-lineage';
import { markGood } from './good-versions';
import { OperationRepository } from './operation.repository';
import type { OperationContext, OperationExecutor } from './operation-context';
import { OperationFailed } from './operation-failed';
import type { OperationStep, OperationType } from './operation-types';
import { OperationEvents } from './operation-events';

export { OperationFailed } from './operation-failed';

/** How long an unacknowledged rate-limit command waits before it is sent again. */
const RATE_LIMIT_RESEND_MS = 5_000;

@Injectable()
export class OperationRunner {
  private readonly logger = new Logger(OperationRunner.name);

  constructor(
    private readonly operations: OperationRepository,
    private readonly reconciler: ReconcilerService,
    private readonly control: ControlPublisher,
    private readonly metrics: QueryMetrics,
    private readonly events: OperationEvents,
    private readonly kafka: KafkaAdminRepository,
    private readonly progress: ProgressRepository,
    private readonly queries: QueryRepository,
    @Inject(RUNTIME_DRIVER) private readonly runtime: RuntimeDriver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private readonly executors = new Map<OperationType, OperationExecutor>();

  /** A feature module's executor takes over these operation types (registered at module init). */
  register(types: OperationType[], executor: OperationExecutor): void {
    for (const type of types) this.executors.set(type, executor);
  }

  async run(operationId: string, finalAttempt: boolean): Promise<void> {
    const op = await this.operations.get(operationId);
    if (!op || op.state === 'SUCCEEDED' || op.state === 'FAILED') return;
    await this.save(op.id, {
      state: 'RUNNING',
      startedAt: op.startedAt ?? new Date(),
      attempts: { increment: 1 },
    });
    try {
      await this.execute(op);
      await this.finish(op, 'SUCCEEDED');
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // Leadership moved mid-way: the operation stays RUNNING in PostgreSQL and the new leader's
      // recovery sweep runs it again from its step (every step is idempotent).
      if (e instanceof NotLeaderError) {
        this.logger.warn(`operation ${op.id} (${op.type}) left to the next leader: ${message}`);
        throw e;
      }
      if (e instanceof OperationFailed || finalAttempt) {
        await this.finish(op, 'FAILED', message);
        return;
      }
      this.logger.warn(`operation ${op.id} (${op.type}) attempt failed, will retry: ${message}`);
      throw e;
    }
  }

  private async finish(op: Operation, state: 'SUCCEEDED' | 'FAILED', error?: string): Promise<void> {
    const current = await this.operations.get(op.id);
    const steps = (current?.steps as unknown as OperationStep[]) ?? [];
    const finishedSteps = steps.map((s) =>
      s.state === 'done'
        ? s
        : state === 'SUCCEEDED'
          ? { ...s, state: 'done' as const }
          : s.state === 'running'
            ? { ...s, state: 'failed' as const, message: error }
            : s,
    );
    await this.save(op.id, {
      state,
      finishedAt: new Date(),
      error: error ?? null,
      progress: state === 'SUCCEEDED' ? 100 : (current?.progress ?? 0),
      steps: finishedSteps as unknown as Prisma.InputJsonValue,
    });
    this.metrics.operations.inc({ type: op.type, result: state.toLowerCase() });
  }

  private async save(id: string, data: Prisma.OperationUpdateInput): Promise<void> {
    const updated = await this.operations.update(id, data);
    this.events.emit(updated);
  }

  private async step(
    op: Operation,
    name: string,
    state: OperationStep['state'],
    progress?: number,
    message?: string,
    figures?: Record<string, unknown>,
  ): Promise<void> {
    const current = await this.operations.get(op.id);
    const steps = ((current?.steps as unknown as OperationStep[]) ?? []).map((s) => {
      if (s.name !== name) return s;
      const now = new Date().toISOString();
      return {
        ...s,
        state,
        startedAt: s.startedAt ?? now,
        ...(state === 'done' || state === 'failed' ? { finishedAt: now } : {}),
        ...(message !== undefined ? { message } : {}),
        ...(figures !== undefined ? { figures } : {}),
      };
    });
    await this.save(op.id, {
      steps: steps as unknown as Prisma.InputJsonValue,
      ...(progress !== undefined ? { progress } : {}),
    });
  }

  /** The executor's handle on this operation's row (upgrades walk their own steps). */
  private context(op: Operation): OperationContext {
    return {
      step: (name, state, progress, message, figures) =>
        this.step(op, name, state, progress, message, figures),
      setSteps: (steps) => this.save(op.id, { steps: steps as unknown as Prisma.InputJsonValue }),
      current: async () => {
        const current = await this.operations.get(op.id);
        if (!current) throw new OperationFailed(`operation ${op.id} vanished`);
        return current;
      },
    };
  }

  private async execute(op: Operation): Promise<void> {
    const queryId = op.queryId;
    if (!queryId) throw new OperationFailed('operation has no query');
    const type = op.type as OperationType;
    const executor = this.executors.get(type);
    if (executor) return executor.execute(op, this.context(op));
    const first = ['deploy', 'scale', 'rate-limit', 'stop', 'start'].includes(type);
    if (first) {
      // The desired state was written with the operation row; this step only records that.
      const name = {
        deploy: 'record desired version',
        scale: 'record desired instances',
        'rate-limit': 'record rate limit',
        stop: 'record stop',
        start: 'record start',
      }[type as Exclude<OperationType, 'delete' | 'upgrade' | 'rollback'>];
      await this.step(op, name, 'done', 10);
    }
    switch (type) {
      case 'rate-limit':
        return this.applyRateLimit(op, queryId);
      case 'deploy':
        await this.step(op, 'drain old instances', 'running', 20);
        await this.waitFor(
          op,
          (r) => r.live <= r.target && r.actions.every((a) => a.type !== 'drain'),
          'drain old instances',
          20,
          40,
        );
        await this.step(op, 'start instances', 'running', 40);
        await this.waitForRunning(op, 'start instances', 'wait until running');
        await this.markRunningGood(queryId);
        return;
      case 'scale':
        await this.step(op, 'reconcile instances', 'running', 20);
        await this.waitForRunning(op, 'reconcile instances', 'wait until running');
        return;
      case 'start':
        await this.step(op, 'start instances', 'running', 20);
        await this.waitForRunning(op, 'start instances', 'wait until running');
        await this.markRunningGood(queryId);
        return;
      case 'stop':
        await this.step(op, 'drain instances', 'running', 20);
        await this.waitFor(op, (r) => r.phase === 'STOPPED', 'drain instances', 20, 90);
        await this.step(op, 'wait until stopped', 'done', 100);
        return;
      case 'delete':
        await this.step(op, 'drain instances', 'running', 10);
        await this.waitFor(op, (r) => r.phase === 'STOPPED', 'drain instances', 10, 80, true);
        await this.step(op, 'wait until stopped', 'done', 80);
        await this.step(op, 'delete query', 'running', 90);
        const doomed = await this.queries.find(queryId);
        if (!doomed) throw new OperationFailed(`query ${queryId} no longer exists`);
        await this.runtime.remove(queryId, doomed.name);
        // The query's internal topics go with it (dead letters included: they belong to the
        // query, and a later query never has the same id), the repartition topic of every
        // checkpoint lineage too, and the file sources' ownership topics (named after a hash of
        // the path, hence found by prefix). Re-running this step is a no-op.
        const { checkpoints } = doomed;
        const epochs = [0, ...checkpointRecords(checkpoints).map((c) => c.epoch)];
        const scopes = epochs.map((e) => checkpointScope(queryId, e));
        const deleted = await this.kafka.deleteTopicsIfPresent([
          dlqTopic(queryId),
          ...scopes.map((s) => repartitionTopic(s)),
          ...(await this.kafka.topicsWithPrefix(scopes.map((s) => fileSourceTopicPrefix(s)))),
        ]);
        if (deleted.length > 0)
          await this.step(op, 'delete query', 'running', 95, `deleted topics ${deleted.join(', ')}`);
        await this.queries.markDeleted(queryId);
        await this.step(op, 'delete query', 'done', 100);
        return;
      default:
        throw new OperationFailed(`unknown operation type ${op.type}`);
    }
  }

  /**
   * Sends the rate limit and waits until every running instance acknowledged it. The engine's
   * control consumer may not have joined its group yet when a freshly started instance already
   * reports RUNNING, so a command can go unseen: it is re-sent (a new id, the same limit;
   * applying it twice is harmless) until each instance has acknowledged one of the ids. An
   * instance started after the limit was recorded gets it on its command line and acknowledges
   * the re-sent command all the same.
   */
  private async applyRateLimit(op: Operation, queryId: string): Promise<void> {
    const step = 'send setRateLimit command';
    const waitStep = 'wait for acknowledgement';
    const since = new Date(Date.now() - 1000);
    const deadline = Date.now() + this.config.SLUICE_OPERATION_TIMEOUT_MS;
    const limit = (await this.queries.find(queryId))?.rateLimit ?? null;
    await this.step(op, step, 'running', 30);
    const sent = [await this.control.setRateLimit(queryId, limit)];
    await this.step(op, step, 'done', 50, `command ${sent[0]}`);
    await this.step(op, waitStep, 'running', 50);
    let lastSentAt = Date.now();
    let last = '';
    for (;;) {
      const live = (await this.runtime.list(queryId)).filter((i) => i.state === 'running').map((i) => i.name);
      if (live.length === 0) {
        await this.step(op, waitStep, 'done', 100, 'no instance runs: the limit applies at the next start');
        return;
      }
      const acked = acknowledgements(await this.progress.eventsSince(queryId, since), sent);
      const done = live.filter((n) => acked.has(n)).length;
      const message = `${done}/${live.length} instance(s) acknowledged (${sent.length} command(s) sent)`;
      if (done === live.length) {
        await this.step(op, waitStep, 'done', 100, message);
        return;
      }
      if (message !== last)
        await this.step(op, waitStep, 'running', 50 + Math.round((50 * done) / live.length), message);
      last = message;
      if (Date.now() > deadline)
        throw new OperationFailed(
          `the rate limit was not acknowledged within ${Math.round(this.config.SLUICE_OPERATION_TIMEOUT_MS / 1000)} s: ${message}`,
        );
      if (Date.now() - lastSentAt >= RATE_LIMIT_RESEND_MS) {
        sent.push(await this.control.setRateLimit(queryId, limit));
        lastSentAt = Date.now();
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** A deploy or start that reached RUNNING makes its version the last good one (no gate). */
  private async markRunningGood(queryId: string): Promise<void> {
    const q = await this.queries.find(queryId);
    if (q)
      await markGood(this.queries, queryId, {
        version: q.desiredVersion,
        checkpointEpoch: q.checkpointEpoch,
      });
  }

  private async waitForRunning(op: Operation, startStep: string, waitStep: string): Promise<void> {
    await this.waitFor(op, (r) => r.phase === 'RUNNING' && r.running === r.target, startStep, 40, 90);
    await this.step(op, startStep, 'done');
    await this.step(op, waitStep, 'done', 100);
  }

  /**
   * Reconciles until `done` holds, reporting progress between `from` and `to` as the share of
   * target instances running. A FAILED query fails the operation; so does the timeout.
   */
  private async waitFor(
    op: Operation,
    done: (r: ReconcileResult) => boolean,
    stepName: string,
    from: number,
    to: number,
    killOnTimeout = false,
  ): Promise<void> {
    const deadline = Date.now() + this.config.SLUICE_OPERATION_TIMEOUT_MS;
    let lastProgress = -1;
    for (;;) {
      const r = await this.reconciler.reconcile(op.queryId!);
      if (!r) throw new OperationFailed('query no longer exists');
      if (done(r)) {
        await this.step(op, stepName, 'done', to);
        return;
      }
      const sink = r.conditions.find((c) => c.type === 'SinkReady' && c.status === 'False');
      if (sink && r.target > 0) throw new OperationFailed(`cannot start instances: ${sink.message}`);
      if (r.phase === 'FAILED') {
        const reason = r.conditions.find((c) => c.type === 'Degraded' && c.status === 'True');
        throw new OperationFailed(
          `query failed: ${reason?.reason ?? 'unknown'}: ${reason?.message ?? ''}`.trim(),
        );
      }
      const share = r.target === 0 ? 1 - Math.min(r.live, 1) : r.running / r.target;
      const progress = Math.round(from + (to - from) * share);
      if (progress !== lastProgress) {
        await this.save(op.id, { progress });
        lastProgress = progress;
      }
      if (Date.now() > deadline) {
        if (killOnTimeout) {
          for (const i of await this.runtime.list(op.queryId!))
            if (i.state === 'running') await this.runtime.kill(op.queryId!, i.name);
          continue;
        }
        throw new OperationFailed(
          `timed out after ${Math.round(this.config.SLUICE_OPERATION_TIMEOUT_MS / 1000)} s in step "${stepName}" (${r.running}/${r.target} instances running)`,
        );
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  }
}
