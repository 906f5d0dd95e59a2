import type { Instance, ProgressEvent, Query } from '../generated/prisma/client';

export function querySummary(q: Query) {
  return {
    id: q.id,
    name: q.name,
    phase: q.phase,
    desired: {
      state: q.desiredState,
      version: q.desiredVersion,
      instances: q.desiredInstances,
      rateLimit: q.rateLimit,
      checkpointEpoch: q.checkpointEpoch,
    },
    generation: q.generation,
    observedGeneration: q.observedGeneration,
    lastProgressAt: q.lastProgressAt?.toISOString() ?? null,
    createdAt: q.createdAt.toISOString(),
    updatedAt: q.updatedAt.toISOString(),
  };
}

export function queryDetail(q: Query & { instances: Instance[] }, lastProgress: ProgressEvent | null) {
  return {
    ...querySummary(q),
    observed: {
      phase: q.phase,
      observedGeneration: q.observedGeneration,
      runningInstances: q.instances.filter((i) => i.status === 'RUNNING').length,
      lastGoodVersion: q.lastGoodVersion,
      lastGoodCheckpointEpoch: q.lastGoodVersion === null ? null : (q.lastGoodCheckpointEpoch ?? 0),
      previousGoodVersion: q.previousGoodVersion,
      previousGoodCheckpointEpoch:
        q.previousGoodVersion === null ? null : (q.previousGoodCheckpointEpoch ?? 0),
    },
    conditions: q.conditions,
    instances: q.instances
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((i) => ({
        name: i.name,
        status: i.status,
        runtime: i.runtime,
        ref: i.runtimeRef,
        restarts: i.restarts,
        exitCode: i.exitCode,
        startedAt: i.startedAt.toISOString(),
        lastSeenAt: i.lastSeenAt?.toISOString() ?? null,
        cpuLimit: i.cpuLimit ?? null,
      })),
    lastProgress: lastProgress?.payload ?? null,
  };
}
