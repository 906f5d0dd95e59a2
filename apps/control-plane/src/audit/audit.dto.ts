// Response schema of an audit entry (AuditController), documented in the OpenAPI document.
import { z } from 'zod';
import { bigintId, isoDateTime } from '../openapi/common-schemas';

export const auditEntrySchema = z
  .looseObject({
    id: bigintId,
    actor: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    before: z.unknown().describe('State before the change (JSON), if any'),
    after: z.unknown().describe('State after the change (JSON), if any'),
    requestId: z.string().nullable(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'AuditEntry' });
