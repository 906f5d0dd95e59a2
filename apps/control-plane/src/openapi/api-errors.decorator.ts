// Documents an operation's error responses, all with the one error body (ApiError). Each status
// has a default description that says which `code`s to expect; an operation can say more.
import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { apiErrorSchema } from '../errors/api-error.dto';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 503;

const DEFAULT_DESCRIPTION: Record<ErrorStatus, string> = {
  400: 'Invalid request: VALIDATION_FAILED (every field at fault is listed in `errors`) or INVALID_JSON',
  401: 'Missing, unknown or revoked bearer token (UNAUTHENTICATED)',
  403: "The token's role is below the one this operation needs (FORBIDDEN)",
  404: 'Not found (NOT_FOUND); a malformed id is answered the same way',
  409: 'Conflicts with the current state (CONFLICT and more specific codes)',
  413: 'Request body over the 1 MB limit (PAYLOAD_TOO_LARGE)',
  415: 'Content-Type not accepted by this operation (UNSUPPORTED_MEDIA_TYPE)',
  422: 'The query spec does not compile (INVALID_SPEC); `errors` give a path, line and column each',
  503: 'PostgreSQL, Redis or Kafka is not answering (UNAVAILABLE, with Retry-After); /readyz says which',
};

/**
 * `ApiErrors(401, 403, [404, 'query not found'])`: one response per status, ApiError body. 503 is
 * always added: every operation that uses this reads PostgreSQL (tokens, at least), and the error
 * filter answers 503 + Retry-After while a dependency is not answering.
 */
export function ApiErrors(...entries: Array<ErrorStatus | [ErrorStatus, string]>): MethodDecorator {
  const listed = entries.map((e) => (Array.isArray(e) ? e[0] : e));
  const all = listed.includes(503) ? entries : [...entries, 503 as const];
  return applyDecorators(
    ...all.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, DEFAULT_DESCRIPTION[entry]];
      return ApiResponse({ status, description, standardSchema: apiErrorSchema });
    }),
  );
}
