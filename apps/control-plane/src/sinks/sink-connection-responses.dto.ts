// Response schema of a sink connection (SinkConnectionView), documented in the OpenAPI document.
import { z } from 'zod';
import { isoDateTime } from '../openapi/common-schemas';

export const sinkConnectionSchema = z
  .looseObject({
    name: z.string(),
    kind: z.literal('postgres'),
    target: z
      .string()
      .nullable()
      .describe('user@host:port/database when the URL resolves now; never a password'),
    source: z.enum(['built-in', 'sealed', 'env']),
    urlEnv: z.string().nullable(),
    allowSchemaQualified: z.boolean(),
    createdAt: isoDateTime.nullable(),
    createdBy: z.string().nullable(),
  })
  .meta({ id: 'SinkConnection' });
