import { z } from 'zod';
import { isPolicyName, POLICY_NAMES } from '@sluice/scaling';

export const SCALING_MODES = ['auto', 'observe'] as const;

export const scalingBody = (maxInstances: number) =>
  z
    .object({
      policy: z.string().refine(isPolicyName, { message: `unknown scaling policy (known: ${POLICY_NAMES.join(', ')})` }).optional(),
      mode: z.enum(SCALING_MODES).optional(),
      minInstances: z.number().int().min(1).max(maxInstances).optional(),
      maxInstances: z.number().int().min(1).max(maxInstances).nullable().optional(),
      backpressure: z.boolean().optional(),
    })
    .strict();

export const scalingEventsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export type ScalingBody = z.infer<ReturnType<typeof scalingBody>>;
export type ScalingEventsQuery = z.infer<typeof scalingEventsQuery>;
