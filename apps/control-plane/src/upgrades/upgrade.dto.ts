// Request bodies of POST /queries/:id/upgrade and /rollback (validated and documented from here).
import { z } from 'zod';
import { DEFAULT_HEALTH_GATE } from './health-gate';

const INT4_MAX = 2_147_483_647;

export const healthGateBody = z
  .object({
    batches: z
      .int()
      .min(1)
      .max(1000)
      .default(DEFAULT_HEALTH_GATE.batches)
      .describe('Batches the new version must commit, every instance at least one'),
    windowSeconds: z
      .int()
      .min(1)
      .max(3600)
      .default(DEFAULT_HEALTH_GATE.windowSeconds)
      .describe('… within this many seconds of its instances running'),
    maxLagGrowthSeconds: z
      .number()
      .min(0)
      .max(86_400)
      .default(DEFAULT_HEALTH_GATE.maxLagGrowthSeconds)
      .describe('Largest growth of the time lag (seconds behind) while the gate judges'),
    maxInvalidRateIncrease: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_HEALTH_GATE.maxInvalidRateIncrease)
      .describe(
        "How much higher (fraction of input rows) the invalid-row rate may be than the old version's",
      ),
  })
  .strict();

export const upgradeBody = z
  .object({
    version: z.int().min(1).max(INT4_MAX).describe('The version to run'),
    strategy: z
      .enum(['in-place', 'new-checkpoint'])
      .default('in-place')
      .describe(
        'in-place: same checkpoint, compatible versions only (409 with the report otherwise); new-checkpoint: a fresh checkpoint, the old one kept for rollback',
      ),
    startingOffsets: z
      .enum(['continue', 'earliest', 'latest'])
      .optional()
      .describe(
        "new-checkpoint only (default continue): continue = from the old version's committed offsets, earliest = rebuild state from the source, latest = only new data",
      ),
    healthGate: healthGateBody.optional(),
    force: z
      .boolean()
      .default(false)
      .describe(
        'in-place: upgrade even when the analyzer finds the version incompatible (Spark-like; the engine still refuses what it cannot resume, and the gate rolls back). A new-checkpoint upgrade needs none and ignores it (a continue into another sink database is refused all the same: 409 SINK_CONNECTION_CHANGED)',
      ),
  })
  .strict()
  .meta({ id: 'UpgradeRequest' });

export const rollbackBody = z
  .object({
    force: z
      .boolean()
      .default(false)
      .describe('Roll back on the same checkpoint even when the rollback version is incompatible with it'),
  })
  .strict()
  .meta({ id: 'RollbackRequest' });

export type UpgradeBody = z.infer<typeof upgradeBody>;
export type RollbackBody = z.infer<typeof rollbackBody>;
