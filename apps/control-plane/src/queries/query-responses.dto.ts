// Response schemas of the queries API (query-view.ts and QueriesService results), documented in
// the OpenAPI document and checked against real responses by the schemathesis suite.
import { streamingQueryProgressSchema } from '@sluice/contracts';
import { z } from 'zod';
import { DesiredState, InstanceStatus, QueryPhase } from '../generated/prisma/enums';
import { isoDateTime } from '../openapi/common-schemas';
import { operationSchema } from '../operations/operation.dto';

export const progressEventSchema = streamingQueryProgressSchema.meta({
  id: 'StreamingQueryProgress',
  description:
    "One micro-batch's progress as the engine reported it (Spark's StreamingQueryProgress plus `sluice`)",
});

const conditionSchema = z.looseObject({
  type: z.string(),
  status: z.enum(['True', 'False']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: isoDateTime,
});

export const querySummarySchema = z
  .looseObject({
    id: z.uuid(),
    name: z.string(),
    phase: z.enum(QueryPhase),
    desired: z.looseObject({
      state: z.enum(DesiredState),
      version: z.int(),
      instances: z.int(),
      rateLimit: z.int().nullable(),
      checkpointEpoch: z
        .int()
        .min(0)
        .describe(
          'Checkpoint lineage the desired version runs on (0 = the first; new-checkpoint upgrades start the next)',
        ),
    }),
    generation: z.int(),
    observedGeneration: z.int(),
    lastProgressAt: isoDateTime.nullable(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'QuerySummary' });

export const queryDetailSchema = querySummarySchema
  .extend({
    observed: z.looseObject({
      phase: z.enum(QueryPhase),
      observedGeneration: z.int(),
      runningInstances: z.int(),
      lastGoodVersion: z.int().nullable().describe('Where a failed upgrade rolls back to'),
      lastGoodCheckpointEpoch: z.int().min(0).nullable(),
      previousGoodVersion: z
        .int()
        .nullable()
        .describe(
          'The good version before the last good one (a rollback by hand goes there when the query runs the last good one)',
        ),
      previousGoodCheckpointEpoch: z.int().min(0).nullable(),
    }),
    conditions: z.array(conditionSchema),
    instances: z.array(
      z.looseObject({
        name: z.string(),
        status: z.enum(InstanceStatus),
        runtime: z.string(),
        ref: z.string().nullable(),
        restarts: z.int(),
        exitCode: z.int().nullable(),
        startedAt: isoDateTime,
        lastSeenAt: isoDateTime.nullable(),
        cpuLimit: z
          .looseObject({
            requested: z.number().nullable(),
            applied: z.boolean(),
            version: z.enum(['v1', 'v2']).optional(),
            quotaUs: z.int().optional(),
            periodUs: z.int().optional(),
            reason: z.string().optional().describe('Why the limit is not applied'),
          })
          .nullable()
          .describe("The query's CPU limit as the runtime applied it to this instance, or why not"),
      }),
    ),
    lastProgress: progressEventSchema.nullable(),
  })
  .meta({ id: 'QueryDetail' });

export const queryCreatedSchema = z
  .looseObject({
    id: z.uuid(),
    name: z.string(),
    version: z.literal(1),
    operation: operationSchema.nullable().describe('The deploy operation; null with ?deploy=false'),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'QueryCreated' });

export const upgradeChangeSchema = z
  .looseObject({
    kind: z.string().describe('Stable identifier of the rule, e.g. aggregate.keys, window.size, sink.type'),
    severity: z.enum(['allowed', 'caveat', 'incompatible']),
    operator: z
      .string()
      .optional()
      .describe('Plan operator the change concerns (scan, filter, aggregate, dedupe, project)'),
    path: z.string().optional().describe('Spec path, e.g. sources.clicks.kafka.topic'),
    before: z.string().optional(),
    after: z.string().optional(),
    message: z.string(),
  })
  .meta({ id: 'UpgradeChange' });

export const compatibilityReportSchema = z
  .looseObject({
    against: z.int().min(1).describe('The version whose checkpoint the report is about'),
    compatible: z.boolean().describe('True when no change is incompatible'),
    changes: z.array(upgradeChangeSchema),
  })
  .meta({
    id: 'CompatibilityReport',
    description:
      "May the version resume from the checkpoint of `against`? Every change with its severity (ARCHITECTURE.md, 'Upgrade compatibility')",
  });

export const versionCompatibilitySchema = compatibilityReportSchema
  .extend({ queryId: z.uuid(), version: z.int().min(1) })
  .meta({ id: 'VersionCompatibility' });

export const versionCreatedSchema = z
  .looseObject({
    queryId: z.uuid(),
    version: z.int().min(1),
    planHash: z.string(),
    samePlanAsPrevious: z.boolean(),
    warnings: z.array(z.string()),
    compatibility: compatibilityReportSchema
      .nullable()
      .describe(
        "The new version against the query's desired (running) version; null, with a warning, when that version no longer compiles",
      ),
  })
  .meta({ id: 'QueryVersionCreated' });

export const queryVersionSchema = z
  .looseObject({
    version: z.int().min(1),
    planHash: z.string(),
    createdAt: isoDateTime,
    createdBy: z.string().nullable(),
    specText: z.string(),
  })
  .meta({ id: 'QueryVersion' });

export const queryLagSchema = z
  .looseObject({
    queryId: z.uuid(),
    totalRecordsBehind: z.number(),
    maxSecondsBehind: z.number().nullable(),
    partitions: z.array(
      z.looseObject({
        topic: z.string(),
        partition: z.int(),
        committedOffset: z.number().nullable(),
        endOffset: z.number(),
        recordsBehind: z.number(),
        secondsBehind: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'QueryLag' });
