import { z } from 'zod';
import { DEFAULT_SINK_CONNECTION, SINK_CONNECTION_NAME, SINK_CONNECTION_NAME_HINT } from '@sluice/query-plan';

/** Environment variables a connection may reference: only these, never DATABASE_URL or a token. */
export const SINK_URL_ENV_PREFIX = 'SLUICE_SINK_URL_';

export const sinkConnectionName = z
  .string()
  .regex(SINK_CONNECTION_NAME, SINK_CONNECTION_NAME_HINT)
  .refine(
    (n) => n !== DEFAULT_SINK_CONNECTION,
    `"${DEFAULT_SINK_CONNECTION}" is built in (SLUICE_SINK_DATABASE_URL)`,
  );

export const createSinkConnectionBody = z
  .strictObject({
    name: sinkConnectionName,
    kind: z.literal('postgres').default('postgres'),
    /** A postgres:// URL; stored sealed (needs SLUICE_SECRETS_KEY), never returned. */
    url: z
      .string()
      .max(2048)
      .regex(/^postgres(ql)?:\/\/[^\0\s]+$/, 'must be a postgresql:// URL')
      .optional(),
    /** Or the name of a control-plane environment variable holding the URL. */
    urlEnv: z
      .string()
      .regex(
        new RegExp(`^${SINK_URL_ENV_PREFIX}[A-Z0-9_]{1,64}$`),
        `must be an environment variable named ${SINK_URL_ENV_PREFIX}<NAME>`,
      )
      .optional(),
    allowSchemaQualified: z.boolean().default(false),
  })
  .refine((b) => (b.url === undefined) !== (b.urlEnv === undefined), {
    message: 'give exactly one of url or urlEnv',
    path: ['url'],
  });

export type CreateSinkConnectionBody = z.infer<typeof createSinkConnectionBody>;
