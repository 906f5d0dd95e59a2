// Entry point: spec text (YAML or JSON) → normalised spec + logical plan, or positioned errors.
// Nothing here throws on bad input; every problem becomes a SpecError. Input limits (limits.ts)
// are checked before the stage each protects: text and YAML limits in parseSpec, SQL limits
// before node-sql-parser.
import { capErrors } from './error-cap';
import { sqlSpecError } from './sql/sql-errors';
import { canonicalJson, sha256 } from './plan/hash';
import { compileQuery } from './plan/compile-query';
import type { LogicalPlan } from './plan/logical-plan';
import { parseSpec, specError } from './spec/parse-spec';
import type { SpecDocument } from './spec/spec-document';
import { parseSql, SQL_TOO_COMPLEX } from './sql/parse-sql';
import { checkSqlLimits } from './sql/sql-limits';
import type { QuerySpec, SpecError } from './types';

export type CompileResult =
  | { ok: true; spec: QuerySpec; plan: LogicalPlan; planHash: string; warnings: string[] }
  | { ok: false; errors: SpecError[] };

/** `fileName` is accepted for symmetry with formatErrors; positions do not depend on it. */
export function compileSpec(text: string, _fileName?: string): CompileResult {
  try {
    return compile(text);
  } catch (error) {
    // A bug in the compiler must still surface as a spec error, never as a stack trace. A
    // RangeError is the stack or memory running out: input the limits should have refused.
    const message =
      error instanceof RangeError
        ? 'the spec is too complex to compile (limits SPEC_MAX_DEPTH, SPEC_MAX_VALUES)'
        : `internal compiler error: ${error instanceof Error ? error.message : String(error)}`;
    return { ok: false, errors: [{ path: '', line: 1, column: 1, message }] };
  }
}

function compile(text: string): CompileResult {
  const parsed = parseSpec(text);
  if (!parsed.ok) return parsed;
  const { spec, document } = parsed;
  const sqlError = (offset: number, message: string): SpecError =>
    sqlSpecError(document, spec.sql, offset, message);
  const overLimit = checkSqlLimits(spec.sql);
  if (overLimit) return { ok: false, errors: [sqlError(overLimit.offset, overLimit.message)] };
  try {
    return compileSql(spec, document, sqlError);
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, errors: [sqlError(0, SQL_TOO_COMPLEX)] };
    throw error;
  }
}

function compileSql(
  spec: QuerySpec,
  document: SpecDocument,
  sqlError: (offset: number, message: string) => SpecError,
): CompileResult {
  const sql = parseSql(spec.sql);
  if (!sql.ok) return { ok: false, errors: [sqlError(sql.offset, sql.message)] };
  const errors: SpecError[] = [];
  const compiled = compileQuery(spec, spec.sql, sql.select, {
    sql: (offset, message) => errors.push(sqlError(sql.originalOffset(offset), message)),
    spec: (path, message) => errors.push(specError(document, path, message)),
  });
  if (!compiled || errors.length > 0) return { ok: false, errors: capErrors(errors) };
  const planJson = canonicalJson(compiled.plan);
  // Backstop for the checks on string literals: PostgreSQL's json/text cannot hold these.
  if (UNSTORABLE_ESCAPE.test(planJson))
    return {
      ok: false,
      errors: [
        sqlError(0, 'the SQL yields a NUL character or an unpaired surrogate, which cannot be stored'),
      ],
    };
  return {
    ok: true,
    spec,
    plan: compiled.plan,
    planHash: sha256(planJson),
    warnings: compiled.warnings,
  };
}

/** In JSON.stringify output: \u0000 or an escaped (hence unpaired) surrogate, not preceded by an escaped backslash. */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f])/i;
