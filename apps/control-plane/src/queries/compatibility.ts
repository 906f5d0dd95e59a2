// Checkpoint compatibility of two stored versions of a query (ARCHITECTURE.md, "Upgrade
// compatibility"): each version is compiled again from its stored spec text with today's
// compiler, then `checkUpgrade` of @sluice/query-plan lists the changes. A stored version that
// today's compiler refuses (a limit lowered since it was stored) is a 409 naming the version,
// never a 500.
import { ConflictException } from '@nestjs/common';
import { checkUpgrade, compileSpec, type CompiledVersion, type UpgradeReport } from '@sluice/query-plan';

export interface StoredVersion {
  version: number;
  specText: string;
}

export type CompileStoredResult =
  { ok: true; compiled: CompiledVersion } | { ok: false; error: ConflictException };

/** Compiles a stored version; the error (not thrown) is the 409 to answer when it no longer compiles. */
export function compileStored(queryName: string, stored: StoredVersion): CompileStoredResult {
  const result = compileSpec(stored.specText, `v${stored.version}`);
  if (result.ok) return { ok: true, compiled: { spec: result.spec, plan: result.plan } };
  const errors = result.errors.map((e) => ({
    path: e.path,
    line: e.line,
    column: e.column,
    message: e.message,
  }));
  const first = errors[0];
  const detail = first
    ? `${first.line}:${first.column} ${first.path ? `${first.path}: ` : ''}${first.message}`
    : 'no detail';
  return {
    ok: false,
    error: new ConflictException({
      code: 'VERSION_NOT_COMPILABLE',
      message: `version ${stored.version} of query ${queryName} no longer compiles with this control plane's compiler (${detail}); its compatibility cannot be checked`,
      version: stored.version,
      errors,
    }),
  };
}

/** `{ against, compatible, changes }`: may `after` resume from the checkpoint of `against`? */
export function compatibilityOf(
  against: number,
  before: CompiledVersion,
  after: CompiledVersion,
): { against: number } & UpgradeReport {
  const report = checkUpgrade(before, after);
  return { against, compatible: report.compatible, changes: report.changes };
}
