// Response schemas of the queries API (query-view.ts and QueriesService results), documented in
// the OpenAPI document and checked against real responses by the schemathesis suite.
import { streamingQueryProgressSchema } from '@sluice/contracts';
import { z } from 'zod';
import { DesiredState, InstanceStatus, QueryPhase } from '../generated/prisma/enums';
import { isoDateTime } from '../openapi/common-schemas';
import { operationSchema } from '../operations/operation.dto';

export const progressEventSchema = streamingQueryProgressSchema.meta({
  id: 'StreamingQueryProgress',
  description: "One micro-batch's progress as the engine reported it (Spark's StreamingQueryProgress plus `sluice`)",
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
      lastGoodVersion: z.int().nullable(),
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

export const versionCreatedSchema = z
  .looseObject({
    queryId: z.uuid(),
    version: z.int().min(1),
    planHash: z.string(),
    samePlanAsPrevious: z.boolean(),
    warnings: z.array(z.string()),
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
