// The control plane validates specs with the very compiler the engine uses (@sluice/query-plan),
// so a spec the API accepts is a spec the engine can run. Errors come back with spec positions.
import { createHash } from 'node:crypto';
import { UnprocessableEntityException } from '@nestjs/common';
import { compileSpec, type QuerySpec } from '@sluice/query-plan';

export interface CompiledSpec {
  name: string;
  specText: string;
  spec: QuerySpec;
  plan: unknown;
  planHash: string;
  warnings: string[];
}

/** Accepts YAML text or an already-parsed JSON object. Throws 422 with positioned errors. */
export function compileOrReject(body: unknown): CompiledSpec {
  const specText = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  if (specText.trim() === '' || specText === '{}') {
    throw new UnprocessableEntityException({
      code: 'INVALID_SPEC',
      message: 'empty spec: send the query spec as YAML (text/yaml) or JSON',
      errors: [{ path: '', line: 1, column: 1, message: 'empty spec' }],
    });
  }
  const result = compileSpec(specText, 'spec');
  if (!result.ok) {
    const errors = result.errors.map((e) => ({ path: e.path, line: e.line, column: e.column, message: e.message }));
    throw new UnprocessableEntityException({
      code: 'INVALID_SPEC',
      message: errors.map((e) => `${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}`).join('; '),
      errors,
    });
  }
  const plan: unknown = result.plan;
  return {
    name: result.spec.name,
    specText,
    spec: result.spec,
    plan,
    planHash: createHash('sha256').update(JSON.stringify(plan)).digest('hex'),
    warnings: result.warnings.map((w: unknown) => (typeof w === 'string' ? w : JSON.stringify(w))),
  };
}
