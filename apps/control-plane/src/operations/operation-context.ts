import type { Operation } from '../generated/prisma/client';
import type { OperationStep } from './operation-types';

/**
 * Runs the operation types a feature module owns (upgrades register `upgrade` and `rollback`),
 * so the operations folder depends on no feature: the feature registers with OperationRunner.
 */
export interface OperationExecutor {
  execute(op: Operation, ctx: OperationContext): Promise<void>;
}

/** What an operation's executor may do to its own row: steps, progress and figures, all saved and streamed. */
export interface OperationContext {
  /** Sets a step's state (startedAt/finishedAt follow), the operation's progress, a message and figures. */
  step(
    name: string,
    state: OperationStep['state'],
    progress?: number,
    message?: string,
    figures?: Record<string, unknown>,
  ): Promise<void>;
  /** Replaces the step list (an upgrade whose gate failed appends its rollback steps). */
  setSteps(steps: OperationStep[]): Promise<void>;
  /** The operation as stored now. */
  current(): Promise<Operation>;
}
