import { z } from 'zod';
import { POLICY_NAMES } from '@sluice/scaling';
import { bigintId, isoDateTime } from '../openapi/common-schemas';
import { MAX_CPU_LIMIT, MIN_CPU_LIMIT } from '../runtime/cpu-limit';

/** The CPU limit field: cores per engine instance, or null for none. */
const cpuLimitField = z
  .number()
  .min(MIN_CPU_LIMIT)
  .max(MAX_CPU_LIMIT)
  .nullable()
  .describe(
    `CPU limit per engine instance in cores (${MIN_CPU_LIMIT}–${MAX_CPU_LIMIT}; null = unlimited). The local runtime applies it as a cgroup CFS quota, also to running instances; see each instance's cpuLimit for whether it was applied`,
  );

export const SCALING_MODES = ['auto', 'observe'] as const;

export const scalingBody = (maxInstances: number) =>
  z
    .object({
      // An enum rather than a refined string, so the OpenAPI document lists the policies.
      policy: z
        .enum(POLICY_NAMES, { error: `unknown scaling policy (known: ${POLICY_NAMES.join(', ')})` })
        .optional(),
      mode: z.enum(SCALING_MODES).optional(),
      minInstances: z.number().int().min(1).max(maxInstances).optional(),
      maxInstances: z.number().int().min(1).max(maxInstances).nullable().optional(),
      backpressure: z.boolean().optional(),
      cpuLimit: cpuLimitField.optional(),
    })
    .strict();

export const scalingEventsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export type ScalingBody = z.infer<ReturnType<typeof scalingBody>>;
export type ScalingEventsQuery = z.infer<typeof scalingEventsQuery>;

// Response schemas (scalingSettings, scalingEventView), documented in the OpenAPI document.
export const scalingSettingsSchema = z
  .looseObject({
    policy: z.enum(POLICY_NAMES),
    mode: z.enum(SCALING_MODES),
    minInstances: z.int().min(1),
    maxInstances: z.int().min(1).nullable(),
    backpressure: z.boolean(),
    cpuLimit: cpuLimitField,
  })
  .meta({ id: 'ScalingSettings' });

export const scalingEventSchema = z
  .looseObject({
    id: bigintId,
    at: isoDateTime,
    policy: z.string(),
    mode: z.enum(SCALING_MODES),
    direction: z.enum(['up', 'down', 'none']),
    fromInstances: z.int(),
    toInstances: z.int(),
    rateLimit: z.int().nullable(),
    reason: z.string(),
    inputs: z.unknown().describe('What the policy saw (JSON)'),
    acted: z.boolean(),
  })
  .meta({ id: 'ScalingEvent' });
