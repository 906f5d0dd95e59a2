// Entry point: spec text (YAML or JSON) → normalised spec + logical plan, or positioned errors.
// Nothing here throws on bad input; every problem becomes a SpecError.
import { sqlSpecError } from './sql/sql-errors';
import { canonicalJson, sha256 } from './plan/hash';
import { compileQuery } from './plan/compile-query';
import type { LogicalPlan } from './plan/logical-plan';
import { parseSpec, specError } from './spec/parse-spec';
import { parseSql } from './sql/parse-sql';
import type { QuerySpec, SpecError } from './types';

export type CompileResult =
  | { ok: true; spec: QuerySpec; plan: LogicalPlan; planHash: string; warnings: string[] }
  | { ok: false; errors: SpecError[] };

/** `fileName` is accepted for symmetry with formatErrors; positions do not depend on it. */
export function compileSpec(text: string, _fileName?: string): CompileResult {
  try {
    return compile(text);
  } catch (error) {
    // A bug in the compiler must still surface as a spec error, never as a stack trace.
    return {
      ok: false,
      errors: [
        {
          path: '',
          line: 1,
          column: 1,
          message: `internal compiler error: ${error instanceof Error ? error.message : String(error)}`,
        },
      ],
    };
  }
}

function compile(text: string): CompileResult {
  const parsed = parseSpec(text);
  if (!parsed.ok) return parsed;
  const { spec, document } = parsed;
  const sqlError = (offset: number, message: string): SpecError =>
    sqlSpecError(document, spec.sql, offset, message);
  const sql = parseSql(spec.sql);
  if (!sql.ok) return { ok: false, errors: [sqlError(sql.offset, sql.message)] };
  const errors: SpecError[] = [];
  const compiled = compileQuery(spec, spec.sql, sql.select, {
    sql: (offset, message) => errors.push(sqlError(sql.originalOffset(offset), message)),
    spec: (path, message) => errors.push(specError(document, path, message)),
  });
  if (!compiled || errors.length > 0) return { ok: false, errors: sortErrors(errors) };
  return {
    ok: true,
    spec,
    plan: compiled.plan,
    planHash: sha256(canonicalJson(compiled.plan)),
    warnings: compiled.warnings,
  };
}

function sortErrors(errors: SpecError[]): SpecError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
}
