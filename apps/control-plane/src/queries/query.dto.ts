import { z } from 'zod';

/** Versions and rate limits are PostgreSQL `integer` columns: a larger number cannot be stored. */
const INT4_MAX = 2_147_483_647;

export const deployBody = z.object({ version: z.number().int().min(1).max(INT4_MAX) });
export const scaleBody = (max: number) => z.object({ instances: z.number().int().min(1).max(max) });
export const rateLimitBody = z.object({ maxOffsetsPerTrigger: z.number().int().min(1).max(INT4_MAX).nullable() });
/** Year 0000 is valid ISO 8601 but not a PostgreSQL timestamp (it has no year 0): a 500 before. */
const FIRST_TIMESTAMP_MS = Date.parse('0001-01-01T00:00:00Z');

export const listQuery = z.object({
  since: z.iso
    .datetime()
    .refine((s) => Date.parse(s) >= FIRST_TIMESTAMP_MS, 'must be in the years 0001-9999')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export type DeployBody = z.infer<typeof deployBody>;
export type RateLimitBody = z.infer<typeof rateLimitBody>;
export type ListQuery = z.infer<typeof listQuery>;
