import type { Operation } from '../generated/prisma/client';

export function operationView(op: Operation) {
  return {
    id: op.id,
    queryId: op.queryId,
    type: op.type,
    state: op.state,
    progress: op.progress,
    steps: op.steps,
    params: op.params,
    error: op.error,
    requestedBy: op.requestedBy,
    attempts: op.attempts,
    createdAt: op.createdAt.toISOString(),
    startedAt: op.startedAt?.toISOString() ?? null,
    finishedAt: op.finishedAt?.toISOString() ?? null,
  };
}
