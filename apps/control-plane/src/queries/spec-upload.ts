// Which requests upload a query spec, and as what. Spec uploads are read as text whatever their
// media type, JSON included, so the compiler sees exactly the bytes sent: its input limits apply
// before anything parses them (a 100,000-deep JSON body never reaches JSON.parse or
// JSON.stringify), error positions point into the text the user wrote, and that text is what is
// stored.
import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';

/** Media types a spec may be sent as (YAML, JSON — which is YAML too — or plain text). */
export const SPEC_MEDIA_TYPES = [
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
  'application/json',
  'text/plain',
];

// POST /api/v1/queries and POST /api/v1/queries/:id/versions, matched as Express routes them:
// case-insensitively, with an optional trailing slash.
const SPEC_PATH = /^\/api\/v1\/queries(?:\/[^/]+\/versions)?\/?$/i;

/** For the text body parser's `type` option: a spec upload in an accepted media type. */
export function isSpecUpload(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || !SPEC_PATH.test((req.url ?? '').split('?')[0] ?? '')) return false;
  // Express has given the request its prototype (with `is`, from type-is) before any middleware.
  return Boolean((req as Request).is(SPEC_MEDIA_TYPES));
}
