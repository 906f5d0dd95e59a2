// Executes `upgrade` and `rollback` operations (ARCHITECTURE.md, "Upgrades"). An upgrade walks
//   check compatibility → [pause sources and flush state] → drain old version → start new version
//   → health gate → mark last good version
// and, when the new version crashes, does not start or fails its gate, rolls back to the last good
// version on its checkpoint (two more steps). Every step reads what it needs from the operation
// row (its figures, the time it started) and changes desired state only by idempotent writes, so
// a control plane that dies mid-way resumes the operation at its step (OperationRecovery).
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { UpgradeChange } from '@sluice/query-plan';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ControlPublisher } from '../control/control-publisher.service';
import { KafkaAdminRepository } from '../repositories/kafka-admin.repository';
import type { Operation, Prisma } from '../generated/prisma/client';
import { LagService } from '../lag/lag.service';
import type { OperationContext, OperationExecutor } from '../operations/operation-context';
import { OperationRunner } from '../operations/operation-runner.service';
import { OperationFailed } from '../operations/operation-failed';
import {
  STEPS,
  UPGRADE_PAUSE_STEP,
  UPGRADE_ROLLBACK_STEPS,
  type OperationStep,
} from '../operations/operation-types';
import { ReconcilerService } from '../reconcile/reconciler.service';
import { ProgressRepository } from '../repositories/progress.repository';
import { QueryRepository } from '../repositories/query.repository';
import { RUNTIME_DRIVER, type RuntimeDriver, type RuntimeInstance } from '../runtime/runtime-driver';
import {
  checkpointRecords,
  describeTarget,
  type CheckpointRecord,
  type StartingOffsetsChoice,
  type VersionOnCheckpoint,
} from '../runtime/checkpoint-lineage';
import { lastGood, markGood, previousGood } from '../operations/good-versions';
import { FAILED_TRIGGERS_IN_A_ROW, invalidRate, judgeGate, type HealthGateSettings } from './health-gate';
import { newCheckpointRecord, prestartStep } from './prestart-plan';
import { abandonRecord, lineageTopics, unusedLineage } from './unused-lineage';
import {
  acknowledgements,
  pausedBacklogs,
  pausedErrors,
  versionFigures,
  type ProgressRow,
} from './progress-figures';

export interface UpgradeParams {
  version: number;
  strategy: 'in-place' | 'new-checkpoint';
  /** new-checkpoint only: where the fresh checkpoint starts. */
  startingOffsets: StartingOffsetsChoice | null;
  healthGate: HealthGateSettings;
  force: boolean;
  /** What ran when the upgrade was asked for, and what it moves to. */
  from: VersionOnCheckpoint;
  to: VersionOnCheckpoint;
  instances: number;
  /** A stateful query continuing on a new checkpoint: its sources pause and the shuffle stage drains first. */
  flush: boolean;
  compatibility: { against: number; compatible: boolean; changes: UpgradeChange[] };
}

export interface RollbackParams {
  from: VersionOnCheckpoint;
  to: VersionOnCheckpoint;
}

/** A failure after the old version was drained: the upgrade rolls back. */
class RollbackNeeded extends OperationFailed {
  constructor(
    readonly step: string,
    message: string,
    readonly figures?: Record<string, unknown>,
    /** Thrown before the new version was made desired: no engine ran on its checkpoint. */
    readonly beforeSwitch = false,
  ) {
    super(message);
  }
}

const [CHECK, DRAIN, START, GATE, MARK] = STEPS.upgrade as [string, string, string, string, string];
const [ROLLBACK_DRAIN, ROLLBACK_START] = UPGRADE_ROLLBACK_STEPS as [string, string];
const [MANUAL_DRAIN, MANUAL_START, MANUAL_MARK] = STEPS.rollback as [string, string, string];
const SYSTEM_ACTOR = { id: 'system/upgrade', name: 'upgrade health gate' };
const POLL_MS = 250;
/**
 * How often the flush wait looks for the paused instances' last backlog report. Shorter than the
 * other waits: the moment the shuffle stage is flushed, the old version is drained and every
 * millisecond until then is output gap (bench:upgrade 12-03 09:47: 1.1 s from the last flush
 * commit to the drain command, half of it this wait at 500 ms). One indexed read per look, for the
 * few seconds the step lasts.
 */
const FLUSH_POLL_MS = 100;
/** How long the drain waits for pre-started instances to be prepared (then drains anyway). */
const PRESTART_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stepsOf = (op: Operation): OperationStep[] => (op.steps as unknown as OperationStep[]) ?? [];
const round = (n: number | null, digits = 1): number | null =>
  n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits;

@Injectable()
export class UpgradeExecutor implements OperationExecutor, OnModuleInit {
  private readonly logger = new Logger(UpgradeExecutor.name);
  /** Drain waits to cut short, per query, when one of its instances exits. */
  private readonly exitWaiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly queries: QueryRepository,
    private readonly progress: ProgressRepository,
    private readonly reconciler: ReconcilerService,
    private readonly control: ControlPublisher,
    private readonly lag: LagService,
    private readonly audit: AuditService,
    @Inject(RUNTIME_DRIVER) private readonly runtime: RuntimeDriver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: OperationRunner,
    private readonly kafka: KafkaAdminRepository,
  ) {}

  onModuleInit(): void {
    this.runner.register(['upgrade', 'rollback'], this);
    this.runtime.onExit?.((queryId) => {
      for (const wake of this.exitWaiters.get(queryId) ?? []) wake();
    });
  }

  /**
   * Sleeps `ms`, or less when an instance of the query exits first: the successors of drained
   * instances wait for that exit, so a drain that notices it a poll late is that much more gap.
   * Runtimes that cannot report exits (and adopted processes) are still found by the next look.
   */
  private untilExit(queryId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.exitWaiters.get(queryId) ?? new Set<() => void>();
      this.exitWaiters.set(queryId, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.exitWaiters.delete(queryId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  async execute(op: Operation, ctx: OperationContext): Promise<void> {
    if (op.type === 'rollback') return this.manualRollback(op, ctx);
    return this.upgrade(op, ctx);
  }

  // ---- upgrade ----

  private async upgrade(op: Operation, ctx: OperationContext): Promise<void> {
    const queryId = op.queryId!;
    const p = op.params as unknown as UpgradeParams;
    const steps = stepsOf(await ctx.current());
    const done = (name: string) => steps.find((s) => s.name === name)?.state === 'done';
    // A control plane that died while rolling back resumes the rollback.
    if (steps.some((s) => s.name === ROLLBACK_DRAIN)) return this.rollBack(ctx, queryId, p);
    try {
      if (!done(CHECK)) await this.check(ctx, p);
      if (p.flush && !done(UPGRADE_PAUSE_STEP)) await this.pauseAndFlush(ctx, queryId, p);
      if (!done(DRAIN)) await this.drainOld(ctx, queryId, p);
      if (!done(START)) await this.startNew(ctx, queryId, p);
      if (!done(GATE)) await this.gate(ctx, queryId, p);
      await ctx.step(MARK, 'running', 97);
      await markGood(this.queries, queryId, p.to);
      await ctx.step(MARK, 'done', 100, `${describeTarget(p.to)} is the last good version`);
    } catch (e) {
      if (!(e instanceof RollbackNeeded)) throw e;
      await this.beginRollback(ctx, queryId, e, unusedLineage(p.from, p.to, e.beforeSwitch));
      await this.rollBack(ctx, queryId, p);
    }
  }

  private async check(ctx: OperationContext, p: UpgradeParams): Promise<void> {
    const count = (severity: UpgradeChange['severity']) =>
      p.compatibility.changes.filter((c) => c.severity === severity).length;
    const figures = {
      compatible: p.compatibility.compatible,
      allowed: count('allowed'),
      caveats: count('caveat'),
      incompatible: count('incompatible'),
    };
    const verdict = p.compatibility.compatible
      ? `compatible with version ${p.compatibility.against}`
      : `incompatible with version ${p.compatibility.against}`;
    const how =
      p.strategy === 'in-place'
        ? `in place on the same checkpoint${p.from.checkpointEpoch > 0 ? ` (c${p.from.checkpointEpoch})` : ''}${p.force && !p.compatibility.compatible ? ' (forced)' : ''}`
        : `on new checkpoint c${p.to.checkpointEpoch} (startingOffsets ${p.startingOffsets})`;
    await ctx.step(
      CHECK,
      'done',
      5,
      `${verdict} (${figures.caveats} caveat(s), ${figures.incompatible} incompatible change(s)); upgrading ${how}`,
      figures,
    );
  }

  /**
   * A stateful query continuing on a new checkpoint: its sources pause, and the drain starts once
   * every instance reports an empty shuffle backlog, so the old version's output is complete.
   * When it cannot flush (no instance runs, its shuffle stage fails, or the timeout passes) the
   * upgrade goes on: the new version's engines read the source records of whatever the old
   * shuffle stage never aggregated again (engine continue-offsets.ts), so nothing is lost.
   */
  private async pauseAndFlush(ctx: OperationContext, queryId: string, p: UpgradeParams): Promise<void> {
    const { from } = p;
    const step = await this.stepState(ctx, UPGRADE_PAUSE_STEP);
    const figures = { ...(step?.figures ?? {}) } as { pauseCommand?: string } & Record<string, unknown>;
    if (step?.state !== 'running') await ctx.step(UPGRADE_PAUSE_STEP, 'running', 8);
    const startedAt =
      Date.parse((await this.stepState(ctx, UPGRADE_PAUSE_STEP))?.startedAt ?? '') || Date.now();
    const instances = await this.live(queryId, (i) => i.version === from.version);
    if (instances.length === 0) {
      await ctx.step(
        UPGRADE_PAUSE_STEP,
        'done',
        15,
        'no instance runs: the new version reads the source records of any shuffle backlog again',
        { ...figures, instances: 0, flushed: false },
      );
      return;
    }
    // Before the pause: the new engines load while the old version still reads its sources.
    if (this.prestartsIn(UPGRADE_PAUSE_STEP, p) && !('prestarted' in figures))
      await this.prestart(ctx, UPGRADE_PAUSE_STEP, 8, queryId, p, figures);
    figures.pauseCommand ??= await this.control.pauseSources(queryId, true);
    await ctx.step(UPGRADE_PAUSE_STEP, 'running', 8, 'pausing sources', figures);
    const deadline = startedAt + this.config.SLUICE_OPERATION_TIMEOUT_MS;
    let last = '';
    for (;;) {
      const names = (await this.live(queryId, (i) => i.version === from.version)).map((i) => i.name);
      const rows = await this.events(queryId, new Date(startedAt - 1000));
      const acked = acknowledgements(rows, figures.pauseCommand);
      const lastAck = Math.max(0, ...[...acked.values()].map((d) => d.getTime()));
      // Once every instance has acknowledged, no source batch commits any more; an instance's
      // backlog counts only from a trigger that started after the last acknowledgement.
      const backlogs = names.every((n) => acked.has(n)) ? pausedBacklogs(rows, lastAck) : new Map();
      const backlog = names.reduce((n, name) => n + (backlogs.get(name) ?? Number.NaN), 0);
      const errors = names.every((n) => acked.has(n))
        ? pausedErrors(rows, lastAck)
        : new Map<string, string>();
      const state = {
        ...figures,
        instances: names.length,
        acknowledged: names.filter((n) => acked.has(n)).length,
        shuffleBacklog: Number.isNaN(backlog) ? null : backlog,
      };
      // A failed trigger first: a shuffle task whose batch failed is dropped until the next
      // trigger recovers it, so the backlog that trigger reports leaves that partition out.
      if (errors.size > 0) {
        const [instance, error] = [...errors][0]!;
        await ctx.step(
          UPGRADE_PAUSE_STEP,
          'done',
          15,
          `the shuffle stage cannot flush (${instance}: ${error.slice(0, 200)}); the new version reads the source records of its backlog again`,
          { ...state, flushed: false, failingInstances: errors.size },
        );
        return;
      }
      if (names.length === 0 || backlog === 0) {
        await ctx.step(
          UPGRADE_PAUSE_STEP,
          'done',
          15,
          names.length === 0
            ? 'every instance stopped: the new version reads the source records of any shuffle backlog again'
            : `sources paused on ${state.acknowledged} instance(s); shuffle stage caught up`,
          { ...state, flushed: names.length > 0 },
        );
        return;
      }
      const message = `sources paused on ${state.acknowledged}/${names.length} instance(s); shuffle backlog ${state.shuffleBacklog ?? 'not reported yet'}`;
      if (message !== last) await ctx.step(UPGRADE_PAUSE_STEP, 'running', 10, message, state);
      last = message;
      if (Date.now() > deadline) {
        await ctx.step(
          UPGRADE_PAUSE_STEP,
          'done',
          15,
          `the shuffle stage did not catch up within ${Math.round(this.config.SLUICE_OPERATION_TIMEOUT_MS / 1000)} s (${message}); the new version reads the source records of its backlog again`,
          { ...state, flushed: false },
        );
        return;
      }
      await sleep(FLUSH_POLL_MS);
    }
  }

  private async drainOld(ctx: OperationContext, queryId: string, p: UpgradeParams): Promise<void> {
    const step = await this.stepState(ctx, DRAIN);
    if (step?.state !== 'running') await ctx.step(DRAIN, 'running', 15, `draining ${describeTarget(p.from)}`);
    const figures = { ...((await this.stepState(ctx, DRAIN))?.figures ?? {}) };
    if (!('invalidRateBefore' in figures)) {
      // The gate compares the new version with what the old one did just before: measured now,
      // before anything changes, and kept with the step for a resumed operation.
      const windowMs = p.healthGate.windowSeconds * 1000;
      const before = versionFigures(await this.events(queryId, new Date(Date.now() - windowMs)), p.from);
      figures.invalidRateBefore = invalidRate(before.invalidRows, before.inputRows);
      figures.invalidRowsBefore = before.invalidRows;
      figures.inputRowsBefore = before.inputRows;
      const outputBefore = before.writtenOutputRows + before.deadLetteredOutputRows;
      figures.deadLetterRateBefore = invalidRate(before.deadLetteredOutputRows, outputBefore);
      figures.deadLetteredOutputRowsBefore = before.deadLetteredOutputRows;
      figures.outputRowsBefore = outputBefore;
      await ctx.step(DRAIN, 'running', 15, undefined, figures);
    }
    if (this.prestartsIn(DRAIN, p) && !('prestarted' in figures))
      await this.prestart(ctx, DRAIN, 15, queryId, p, figures);
    // In place, the reconciler replaces instance after instance, each successor starting once its
    // predecessor has committed its last batch (both use the same checkpoint, fenced per task).
    // A new checkpoint must not start before every old instance has stopped (its start reads
    // where the old checkpoint ended), so the query is held stopped in between; its pre-started
    // engines wait through it (the runtime keeps them when it forgets the old instances).
    await this.setDesired(
      queryId,
      p.strategy === 'in-place' ? { state: 'RUNNING', target: p.to } : { state: 'STOPPED' },
    );
    await this.drainInstances(
      ctx,
      DRAIN,
      queryId,
      (i) => i.version !== p.to.version,
      [15, 40],
      figures,
      // A new checkpoint is made desired only by the start step: a failure here is before it.
      (message) => new RollbackNeeded(DRAIN, message, undefined, true),
    );
  }

  /** Whether `step` pre-starts the new version (prestart-plan.ts; the runtime must be able to). */
  private prestartsIn(step: string, p: UpgradeParams): boolean {
    return (
      this.runtime.prestart !== undefined && prestartStep(p, this.config.SLUICE_UPGRADE_PRESTART) === step
    );
  }

  /**
   * The new version's instances are spawned before the old ones are touched and wait, prepared,
   * for their predecessors' exit (the runtime releases each at its start), so the hand-over costs
   * a release, a group join and a batch instead of a process start. A new checkpoint is recorded
   * first (its engines' launch names where it starts); its engines read where the old lineage
   * ended only once released. Bounded: whatever is not ready by then starts from scratch as
   * before. A runtime without pre-start skips this.
   */
  private async prestart(
    ctx: OperationContext,
    stepName: string,
    progress: number,
    queryId: string,
    p: UpgradeParams,
    figures: Record<string, unknown>,
  ): Promise<void> {
    const started = Date.now();
    const record = newCheckpointRecord(p, new Date(started));
    if (record) await this.recordCheckpoint(queryId, record);
    const names = await this.reconciler.prestart(queryId, p.to);
    figures.prestarted = names.length;
    if (names.length === 0 || !this.runtime.standbyState) return;
    await ctx.step(
      stepName,
      'running',
      progress,
      `pre-starting ${names.length} instance(s) of ${describeTarget(p.to)}`,
      figures,
    );
    let ready = 0;
    while (Date.now() - started < PRESTART_WAIT_MS) {
      const states = await Promise.all(names.map((n) => this.runtime.standbyState!(queryId, n)));
      ready = states.filter((s) => s === 'ready').length;
      // A standby that exited (its checks refused the version) is not waited for: its start
      // spawns afresh and reports the same failure there.
      if (!states.includes('preparing')) break;
      await sleep(POLL_MS);
    }
    figures.prestartReady = ready;
    figures.prestartMs = Date.now() - started;
    await ctx.step(
      stepName,
      'running',
      progress,
      `${ready}/${names.length} pre-started instance(s) of ${describeTarget(p.to)} ready after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      figures,
    );
  }

  private async startNew(ctx: OperationContext, queryId: string, p: UpgradeParams): Promise<void> {
    const step = await this.stepState(ctx, START);
    if (step?.state !== 'running') {
      // The reconciler would start nothing (SinkReady=False) and the step fail at its first poll;
      // asked first, the rollback knows nothing ran on the new checkpoint. A resumed step may
      // have made the version desired already: it does not ask.
      const unavailable = await this.reconciler.sinkUnavailable(queryId, p.to.version);
      if (unavailable)
        throw new RollbackNeeded(START, `cannot start instances: ${unavailable}`, undefined, true);
      await ctx.step(START, 'running', 40, `starting ${describeTarget(p.to)} on ${p.instances} instance(s)`);
    }
    // Already recorded when the new version was pre-started (setDesired adds it only once).
    const record = newCheckpointRecord(p, new Date());
    await this.setDesired(queryId, { state: 'RUNNING', target: p.to, record });
    const since = await this.stepStart(ctx, START);
    await this.waitRunning(
      ctx,
      START,
      queryId,
      p.to,
      since,
      [40, 60],
      (message) => new RollbackNeeded(START, message),
    );
  }

  private async gate(ctx: OperationContext, queryId: string, p: UpgradeParams): Promise<void> {
    const step = await this.stepState(ctx, GATE);
    if (step?.state !== 'running') await ctx.step(GATE, 'running', 60, 'judging the new version');
    const openedAt = await this.stepStart(ctx, GATE);
    const since = await this.stepStart(ctx, START);
    const stored = (await this.stepState(ctx, GATE))?.figures ?? {};
    // Measured by the drain step before anything changed (null in an operation from before a figure).
    const beforeFigures = (await this.stepState(ctx, DRAIN))?.figures ?? {};
    const figureBefore = (name: string): number | null =>
      typeof beforeFigures[name] === 'number' ? beforeFigures[name] : null;
    const invalidRateBefore = figureBefore('invalidRateBefore');
    const deadLetterRateBefore = figureBefore('deadLetterRateBefore');
    const lagSecondsAtStart =
      'lagSecondsAtStart' in stored
        ? (stored.lagSecondsAtStart as number | null)
        : await this.maxLagSeconds(queryId);
    const s = p.healthGate;
    let last = '';
    for (;;) {
      const f = versionFigures(await this.events(queryId, new Date(since)), p.to);
      const crash = await this.crashSince(queryId, p.to, since);
      const lagSecondsNow = await this.maxLagSeconds(queryId);
      const elapsedMs = Date.now() - openedAt;
      const after = invalidRate(f.invalidRows, f.inputRows);
      const outputRows = f.writtenOutputRows + f.deadLetteredOutputRows;
      const figures = {
        batches: f.batches,
        refusedBatches: f.refusedBatches,
        requiredBatches: s.batches,
        instances: p.instances,
        instancesReporting: f.instances.length,
        windowSeconds: s.windowSeconds,
        elapsedSeconds: round(elapsedMs / 1000),
        crashes: crash ? 1 : 0,
        failedTriggers: f.failedTriggers,
        failingInARow: f.failingInARow,
        failingInstance: f.failingInstance,
        failingError: f.failingError,
        maxFailingInARow: FAILED_TRIGGERS_IN_A_ROW,
        lastTriggerError: f.lastTriggerError,
        invalidRowsBefore: figureBefore('invalidRowsBefore'),
        inputRowsBefore: figureBefore('inputRowsBefore'),
        invalidRateBefore: round(invalidRateBefore, 6),
        invalidRows: f.invalidRows,
        inputRows: f.inputRows,
        invalidRateAfter: round(after, 6),
        deadLetteredOutputRowsBefore: figureBefore('deadLetteredOutputRowsBefore'),
        outputRowsBefore: figureBefore('outputRowsBefore'),
        deadLetterRateBefore: round(deadLetterRateBefore, 6),
        deadLetteredOutputRows: f.deadLetteredOutputRows,
        outputRows,
        deadLetterRateAfter: round(invalidRate(f.deadLetteredOutputRows, outputRows), 6),
        maxInvalidRateIncrease: s.maxInvalidRateIncrease,
        lagSecondsAtStart: round(lagSecondsAtStart),
        lagSecondsNow: round(lagSecondsNow),
        lagGrowthSeconds:
          lagSecondsAtStart !== null && lagSecondsNow !== null
            ? round(lagSecondsNow - lagSecondsAtStart)
            : null,
        maxLagGrowthSeconds: s.maxLagGrowthSeconds,
        firstBatchAt: f.firstBatchAt?.toISOString() ?? null,
        // A continue from a version that could not flush: what the new version's start found.
        ...(f.oldBacklog ? { oldBacklog: f.oldBacklog } : {}),
      };
      // Rows of the old backlog without an origin (written by engines from before origins) are
      // counted by neither version: said in the step's message, not a gate failure (the new
      // version is healthy; only `earliest` would count them).
      const lost = f.oldBacklog?.withoutOrigin
        ? `; ${f.oldBacklog.withoutOrigin} row(s) of the old version's shuffle backlog carry no origin and are counted by neither version`
        : '';
      const verdict = judgeGate(
        {
          elapsedMs,
          batches: f.batches,
          instances: p.instances,
          instancesReporting: f.instances.length,
          crashes: crash ? 1 : 0,
          lastCrash: crash,
          lastTriggerError: f.lastTriggerError,
          failingInARow: f.failingInARow,
          failingInstance: f.failingInstance,
          failingError: f.failingError,
          invalidRateBefore,
          invalidRows: f.invalidRows,
          inputRows: f.inputRows,
          deadLetterRateBefore,
          writtenOutputRows: f.writtenOutputRows,
          deadLetteredOutputRows: f.deadLetteredOutputRows,
          lagSecondsAtStart,
          lagSecondsNow,
        },
        s,
      );
      if (verdict.verdict === 'pass') {
        await ctx.step(GATE, 'done', 95, `passed: ${verdict.summary}${lost}`, figures);
        return;
      }
      if (verdict.verdict === 'fail')
        throw new RollbackNeeded(GATE, `health gate failed: ${verdict.reason}`, figures);
      const message = `${f.batches}/${s.batches} batches from ${f.instances.length}/${p.instances} instance(s) after ${Math.floor(elapsedMs / 1000)} s of ${s.windowSeconds} s`;
      const progress = 60 + Math.round(35 * Math.min(1, f.batches / s.batches));
      if (message !== last) await ctx.step(GATE, 'running', progress, message, figures);
      last = message;
      await sleep(POLL_MS * 2);
    }
  }

  // ---- rollback ----

  /** Marks the step that failed and appends the rollback steps (once; a resumed operation finds them). */
  private async beginRollback(
    ctx: OperationContext,
    queryId: string,
    failure: RollbackNeeded,
    /** A new checkpoint nothing ran on, forgotten once the rollback has run (kept in the step). */
    forgetCheckpoint: number | null,
  ): Promise<void> {
    const now = new Date().toISOString();
    const steps = stepsOf(await ctx.current()).map((s) =>
      s.name === failure.step
        ? {
            ...s,
            state: 'failed' as const,
            startedAt: s.startedAt ?? now,
            finishedAt: now,
            message: failure.message,
            ...(failure.figures ? { figures: failure.figures } : {}),
          }
        : s,
    );
    steps.push(
      {
        name: ROLLBACK_DRAIN,
        state: 'pending',
        message: failure.message,
        ...(forgetCheckpoint !== null ? { figures: { forgetCheckpoint } } : {}),
      },
      { name: ROLLBACK_START, state: 'pending' },
    );
    await ctx.setSteps(steps);
    this.logger.warn(`upgrade of query ${queryId} rolls back: ${failure.message}`);
    await this.audit.record({
      actor: SYSTEM_ACTOR,
      action: 'query.rollback.automatic',
      target: `query/${queryId}`,
      after: { reason: failure.message },
    });
  }

  /** Back to the last good version on its checkpoint (what ran before, if none was ever good). */
  private async rollBack(ctx: OperationContext, queryId: string, p: UpgradeParams): Promise<never> {
    const steps = stepsOf(await ctx.current());
    const rollbackDrain = steps.find((s) => s.name === ROLLBACK_DRAIN);
    const reason = rollbackDrain?.message ?? 'upgrade failed';
    const forget = rollbackDrain?.figures?.forgetCheckpoint;
    const q = await this.queries.findOrThrow(queryId);
    const target = lastGood(q) ?? p.from;
    const failed = (message: string) =>
      new OperationFailed(`${reason}; rollback to ${describeTarget(target)} failed: ${message}`);
    // A failure before the new version started leaves its pre-started engines unreleased: they
    // go now (the start of the rollback's instances would stop only those of the same names).
    await this.runtime.cancelPrestart?.(queryId);
    await this.switchTo(ctx, queryId, target, [ROLLBACK_DRAIN, ROLLBACK_START], [70, 85, 99], failed);
    const forgotten =
      typeof forget === 'number' && forget !== target.checkpointEpoch
        ? await this.forgetUnusedLineage(queryId, forget, reason)
        : '';
    throw new OperationFailed(
      `${reason}; rolled back to ${describeTarget(target)}, which is running${forgotten}`,
    );
  }

  /**
   * Forgets checkpoint `epoch`, on which no engine ran (unused-lineage.ts): its record is marked
   * abandoned and the topics its standbys created are deleted. The sink table they prepared
   * stays (it may be another version's too). Best effort, after the rollback has run: what it
   * cannot delete goes with the query. Returns what the operation's outcome says about it.
   */
  private async forgetUnusedLineage(queryId: string, epoch: number, reason: string): Promise<string> {
    try {
      await this.queries.transaction(async (tx) => {
        const q = await this.queries.lockForUpdate(queryId, tx);
        if (!q) throw new Error(`query ${queryId} not found`);
        const inUse = [
          q.checkpointEpoch,
          lastGood(q)?.checkpointEpoch,
          previousGood(q)?.checkpointEpoch,
        ].filter((e): e is number => e !== undefined);
        const records = abandonRecord(checkpointRecords(q.checkpoints), epoch, inUse, new Date(), reason);
        if (records)
          await this.queries.changeDesired(
            queryId,
            { checkpoints: records as unknown as Prisma.InputJsonValue },
            tx,
          );
      });
      const topics = lineageTopics(queryId, epoch);
      const deleted = await this.kafka.deleteTopicsIfPresent([
        ...topics.names,
        ...(await this.kafka.topicsWithPrefix(topics.prefixes)),
      ]);
      return `; checkpoint c${epoch} forgotten (no engine ran on it; ${deleted.length > 0 ? `deleted ${deleted.join(', ')}` : 'no topic to delete'})`;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.logger.warn(`query ${queryId}: could not forget checkpoint c${epoch}: ${message}`);
      return `; checkpoint c${epoch} could not be forgotten (${message})`;
    }
  }

  private async manualRollback(op: Operation, ctx: OperationContext): Promise<void> {
    const queryId = op.queryId!;
    const p = op.params as unknown as RollbackParams;
    const failed = (message: string) =>
      new OperationFailed(`rollback to ${describeTarget(p.to)} failed: ${message}`);
    await this.switchTo(ctx, queryId, p.to, [MANUAL_DRAIN, MANUAL_START], [10, 50, 90], failed);
    await ctx.step(MANUAL_MARK, 'running', 95);
    await markGood(this.queries, queryId, p.to);
    await ctx.step(MANUAL_MARK, 'done', 100, `${describeTarget(p.to)} is the last good version`);
  }

  /** Drains whatever runs and starts `target` (held stopped in between when the checkpoint changes). */
  private async switchTo(
    ctx: OperationContext,
    queryId: string,
    target: VersionOnCheckpoint,
    [drainStep, startStep]: [string, string],
    [p0, p1, p2]: [number, number, number],
    failure: (message: string) => OperationFailed,
  ): Promise<void> {
    const steps = stepsOf(await ctx.current());
    const state = (name: string) => steps.find((s) => s.name === name)?.state;
    if (state(drainStep) !== 'done') {
      if (state(drainStep) !== 'running')
        await ctx.step(drainStep, 'running', p0, `draining what runs, to start ${describeTarget(target)}`);
      const q = await this.queries.findOrThrow(queryId);
      const sameCheckpoint = q.checkpointEpoch === target.checkpointEpoch;
      await this.setDesired(queryId, sameCheckpoint ? { state: 'RUNNING', target } : { state: 'STOPPED' });
      const figures = { ...(steps.find((s) => s.name === drainStep)?.figures ?? {}) };
      await this.drainInstances(
        ctx,
        drainStep,
        queryId,
        (i) => i.version !== target.version,
        [p0, p1],
        figures,
        failure,
      );
    }
    if (state(startStep) !== 'done') {
      if (state(startStep) !== 'running')
        await ctx.step(startStep, 'running', p1, `starting ${describeTarget(target)}`);
      await this.setDesired(queryId, { state: 'RUNNING', target });
      const since = await this.stepStart(ctx, startStep);
      await this.waitRunning(ctx, startStep, queryId, target, since, [p1, p2], failure);
    }
  }

  // ---- shared ----

  /**
   * Writes desired state when it differs (a resumed step writes the same again: no-op). Like a
   * deploy, switching to a version clears the crash history and reads DEPLOYING until it runs.
   */
  private async setDesired(
    queryId: string,
    change: { state: 'RUNNING' | 'STOPPED'; target?: VersionOnCheckpoint; record?: CheckpointRecord },
  ): Promise<void> {
    await this.queries.transaction(async (tx) => {
      const q = await this.queries.lockForUpdate(queryId, tx);
      if (!q) throw new Error(`query ${queryId} not found`);
      const records = checkpointRecords(q.checkpoints);
      const addRecord = change.record && !records.some((r) => r.epoch === change.record!.epoch);
      const sameTarget =
        !change.target ||
        (q.desiredVersion === change.target.version && q.checkpointEpoch === change.target.checkpointEpoch);
      if (q.desiredState === change.state && sameTarget && !addRecord) return;
      const data: Prisma.QueryUpdateInput = {
        desiredState: change.state,
        ...(change.target
          ? { desiredVersion: change.target.version, checkpointEpoch: change.target.checkpointEpoch }
          : {}),
        ...(addRecord
          ? { checkpoints: [...records, change.record!] as unknown as Prisma.InputJsonValue }
          : {}),
        ...(change.state === 'RUNNING' && (!sameTarget || q.desiredState !== 'RUNNING')
          ? { phase: 'DEPLOYING', crashTimes: [] }
          : {}),
      };
      await this.queries.changeDesired(queryId, data, tx);
    });
    this.reconciler.enqueue(queryId);
  }

  /** Records a new checkpoint lineage (once) without changing what runs. */
  private async recordCheckpoint(queryId: string, record: CheckpointRecord): Promise<void> {
    await this.queries.transaction(async (tx) => {
      const q = await this.queries.lockForUpdate(queryId, tx);
      if (!q) throw new Error(`query ${queryId} not found`);
      const records = checkpointRecords(q.checkpoints);
      if (records.some((r) => r.epoch === record.epoch)) return;
      await this.queries.changeDesired(
        queryId,
        { checkpoints: [...records, record] as unknown as Prisma.InputJsonValue },
        tx,
      );
    });
  }

  /**
   * Waits until no instance matching `old` runs. Each gets a drain command of its own on the
   * control topic (the reconciler's SIGTERM means the same: finish the batch, commit, exit;
   * instances of the version that stays are not addressed). Instances still running after the
   * operation timeout are killed, which exactly-once survives (their open batch is replayed from
   * the write-ahead log); any left after twice the timeout are `failure`.
   */
  private async drainInstances(
    ctx: OperationContext,
    stepName: string,
    queryId: string,
    old: (i: RuntimeInstance) => boolean,
    [from, to]: [number, number],
    figures: Record<string, unknown>,
    failure: (message: string) => OperationFailed,
  ): Promise<void> {
    const startedAt = Date.now();
    const draining = await this.live(queryId, old);
    const names = draining.map((i) => i.name);
    // Sent once (kept in the step's figures): a resumed step does not address them again. Each
    // names the version it drains: the successor of the same name may already be listening.
    if (names.length > 0 && !Array.isArray(figures.drainCommands)) {
      // At once: an instance drained later than the others extends the gap by as much.
      figures.drainCommands = await Promise.all(
        draining.map((i) => this.control.drain(queryId, i.name, i.version)),
      );
      figures.instances = names.length;
      await ctx.step(stepName, 'running', from, `drain requested from ${names.length} instance(s)`, figures);
    }
    const commands = (figures.drainCommands as string[] | undefined) ?? [];
    const timeoutMs = this.config.SLUICE_OPERATION_TIMEOUT_MS;
    const killed: string[] = [];
    let acked = new Map<string, Date>();
    for (let i = 0; ; i++) {
      await this.reconciler.reconcile(queryId);
      const remaining = await this.live(queryId, old);
      if (commands.length > 0 && (remaining.length === 0 || i % 4 === 0)) {
        const rows = await this.events(queryId, new Date(startedAt - 60_000));
        acked = new Map(commands.flatMap((c) => [...acknowledgements(rows, c)]));
      }
      if (remaining.length === 0) break;
      if (Date.now() - startedAt > timeoutMs && killed.length === 0) {
        for (const r of remaining) await this.runtime.kill(queryId, r.name);
        killed.push(...remaining.map((r) => r.name));
      }
      if (Date.now() - startedAt > 2 * timeoutMs)
        throw failure(`${remaining.map((r) => r.name).join(', ')} still running after a drain and a kill`);
      const total = Math.max(names.length, 1);
      await ctx.step(
        stepName,
        'running',
        Math.round(from + ((to - from) * (total - remaining.length)) / total),
        `waiting for ${remaining.map((r) => r.name).join(', ')} to finish its batch and exit`,
      );
      await this.untilExit(queryId, POLL_MS);
    }
    const drainMs = Date.now() - startedAt;
    await ctx.step(
      stepName,
      'done',
      to,
      names.length === 0
        ? 'no instance was running'
        : `${names.length} instance(s) drained in ${(drainMs / 1000).toFixed(1)} s (${acked.size} acknowledged the drain command${killed.length ? `; killed after the timeout: ${killed.join(', ')}` : ''})`,
      { ...figures, acknowledged: acked.size, killed, drainMs },
    );
  }

  /** Reconciles until `target` runs on every desired instance; a crash or the timeout is `failure`. */
  private async waitRunning(
    ctx: OperationContext,
    stepName: string,
    queryId: string,
    target: VersionOnCheckpoint,
    since: number,
    [from, to]: [number, number],
    failure: (message: string) => OperationFailed,
  ): Promise<void> {
    let lastProgress = -1;
    for (;;) {
      const r = await this.reconciler.reconcile(queryId);
      if (!r) throw new OperationFailed('query no longer exists');
      const crash = await this.crashSince(queryId, target, since);
      if (crash) throw failure(`an instance of ${describeTarget(target)} crashed: ${crash}`);
      const sink = r.conditions.find((c) => c.type === 'SinkReady' && c.status === 'False');
      if (sink) throw failure(`cannot start instances: ${sink.message}`);
      if (r.phase === 'FAILED') throw failure('the query failed');
      if (r.phase === 'RUNNING' && r.target > 0 && r.running === r.target) {
        await ctx.step(
          stepName,
          'done',
          to,
          `${r.running} instance(s) of ${describeTarget(target)} running after ${((Date.now() - since) / 1000).toFixed(1)} s`,
          { instances: r.running, startMs: Date.now() - since },
        );
        return;
      }
      if (Date.now() - since > this.config.SLUICE_OPERATION_TIMEOUT_MS)
        throw failure(
          `not running after ${Math.round(this.config.SLUICE_OPERATION_TIMEOUT_MS / 1000)} s (${r.running}/${r.target} instances)`,
        );
      const progress = Math.round(from + ((to - from) * r.running) / Math.max(r.target, 1));
      if (progress !== lastProgress) await ctx.step(stepName, 'running', progress);
      lastProgress = progress;
      await sleep(POLL_MS);
    }
  }

  /** Why an instance of `target` crashed since `since` (its last error line), or null if none did. */
  private async crashSince(
    queryId: string,
    target: VersionOnCheckpoint,
    since: number,
  ): Promise<string | null> {
    const q = await this.queries.find(queryId);
    const recorded = ((q?.crashTimes as string[] | null) ?? []).filter((t) => Date.parse(t) >= since);
    const exited = (await this.runtime.list(queryId)).filter(
      (i) =>
        i.version === target.version &&
        i.state === 'exited' &&
        !i.drained &&
        i.exitCode !== 0 &&
        (i.exitedAt?.getTime() ?? Date.now()) >= since,
    );
    if (recorded.length === 0 && exited.length === 0) return null;
    const why = exited.find((i) => i.lastError)?.lastError;
    return why ?? `${Math.max(recorded.length, exited.length)} abnormal exit(s)`;
  }

  private async live(queryId: string, match: (i: RuntimeInstance) => boolean): Promise<RuntimeInstance[]> {
    return (await this.runtime.list(queryId)).filter((i) => i.state === 'running' && match(i));
  }

  private events(queryId: string, since: Date): Promise<ProgressRow[]> {
    return this.progress.eventsSince(queryId, since, 20_000);
  }

  private async maxLagSeconds(queryId: string): Promise<number | null> {
    const partitions = await this.lag.lagOf(queryId).catch(() => []);
    const known = partitions.map((p) => p.secondsBehind).filter((s): s is number => s !== null);
    return known.length > 0 ? Math.max(...known) : null;
  }

  private async stepState(ctx: OperationContext, name: string): Promise<OperationStep | undefined> {
    return stepsOf(await ctx.current()).find((s) => s.name === name);
  }

  /** When a step started (persisted with it, so a resumed operation keeps its clocks). */
  private async stepStart(ctx: OperationContext, name: string): Promise<number> {
    const started = (await this.stepState(ctx, name))?.startedAt;
    return started ? Date.parse(started) : Date.now();
  }
}
