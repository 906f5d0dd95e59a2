import { z } from 'zod';

/** Versions and rate limits are PostgreSQL `integer` columns: a larger number cannot be stored. */
const INT4_MAX = 2_147_483_647;

/**
 * A version number in a path or query string: decimal digits only (no `1e3`, `0x10`, spaces or
 * sign), then the same 1..2^31-1 bound as a body. Documented as the integer it stands for.
 */
const versionText = z.preprocess(
  (s) => (typeof s === 'string' && /^\d{1,10}$/.test(s) ? Number(s) : s),
  z.int().min(1).max(INT4_MAX),
);
/** `:v` of /queries/:id/versions/:v/...; `id` is checked apart (a malformed id is a 404). */
export const versionPathParams = z.object({ v: versionText.describe('Version number (1..2^31-1)') });
export const compatibilityQuery = z.object({
  against: versionText
    .optional()
    .describe("Version the checkpoint would come from; the query's desired (running) version when absent"),
});

export const deployBody = z.object({ version: z.number().int().min(1).max(INT4_MAX) });
export const scaleBody = (max: number) => z.object({ instances: z.number().int().min(1).max(max) });
export const rateLimitBody = z.object({
  maxOffsetsPerTrigger: z.number().int().min(1).max(INT4_MAX).nullable(),
});
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
export type VersionPathParams = z.infer<typeof versionPathParams>;
export type CompatibilityQuery = z.infer<typeof compatibilityQuery>;
