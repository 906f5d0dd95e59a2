// The control plane validates specs with the very compiler the engine uses (@sluice/query-plan),
// so a spec the API accepts is a spec the engine can run, with the same input limits and the same
// plan hash. Errors come back with spec positions.
import { UnprocessableEntityException, UnsupportedMediaTypeException } from '@nestjs/common';
import { compileSpec, type QuerySpec } from '@sluice/query-plan';
import { SPEC_MEDIA_TYPES } from './spec-upload';

export interface CompiledSpec {
  name: string;
  specText: string;
  spec: QuerySpec;
  plan: unknown;
  planHash: string;
  warnings: string[];
}

/**
 * `body` is the spec text as sent (see spec-upload.ts); anything else means the request had no
 * body or a media type the text parser did not take: 415. Throws 422 with positioned errors.
 */
export function compileOrReject(body: unknown): CompiledSpec {
  if (typeof body !== 'string') {
    throw new UnsupportedMediaTypeException({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `send the query spec as the request body with Content-Type ${SPEC_MEDIA_TYPES.join(', ')}`,
      accepted: SPEC_MEDIA_TYPES,
    });
  }
  const specText = body;
  // No trim() of the whole text: a body can be a megabyte, and this runs before any limit.
  if (!/\S/.test(specText) || (specText.length < 64 && specText.trim() === '{}')) {
    throw new UnprocessableEntityException({
      code: 'INVALID_SPEC',
      message: 'empty spec: send the query spec as YAML (application/yaml) or JSON',
      errors: [{ path: '', line: 1, column: 1, message: 'empty spec' }],
    });
  }
  // Limits (spec size, nesting, tokens, SQL complexity) are checked inside, before any parsing
  // work they protect; a spec over one is an ordinary 422 naming the limit.
  const result = compileSpec(specText, 'spec');
  if (!result.ok) {
    const errors = result.errors.map((e) => ({
      path: e.path,
      line: e.line,
      column: e.column,
      message: e.message,
    }));
    throw new UnprocessableEntityException({
      code: 'INVALID_SPEC',
      message: errors
        .map((e) => `${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}`)
        .join('; '),
      errors,
    });
  }
  return {
    name: result.spec.name,
    specText,
    spec: result.spec,
    plan: result.plan,
    // The library's hash (canonical JSON), so the API and the engine agree on it.
    planHash: result.planHash,
    warnings: result.warnings,
  };
}
