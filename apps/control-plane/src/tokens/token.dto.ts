// Response schemas of the tokens API (token-view.ts publicView), documented in the OpenAPI document.
import { z } from 'zod';
import { isoDateTime } from '../openapi/common-schemas';
import { ROLES } from '../auth/roles';

export const tokenSchema = z
  .looseObject({
    id: z.uuid(),
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z
      .string()
      .describe('First characters of the secret, to recognise a token; "(env)" for the bootstrap token'),
    createdAt: isoDateTime,
    lastUsedAt: isoDateTime.nullable(),
    revokedAt: isoDateTime.nullable(),
    origin: z.string().optional().describe('How the token was made (api, bootstrap, ...)'),
  })
  .meta({
    id: 'ApiToken',
    description: 'An API token as the API shows it: never its hash; the secret only once, at creation',
  });

export const createdTokenSchema = tokenSchema
  .extend({ token: z.string().describe('The secret, shown only in this response') })
  .meta({ id: 'CreatedApiToken' });
