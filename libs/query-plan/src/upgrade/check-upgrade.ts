// Checkpoint compatibility of a query upgrade: may version `after` resume from the checkpoint of
// version `before`? Pure: compares two compiled versions (normalised spec + logical plan) and
// lists every change with its severity. Rules follow Spark's "Recovery Semantics after Changes
// in a Streaming Query" (Structured Streaming Programming Guide) and go beyond it where the
// engine knows more (window size, sink tables, connections); each rules module cites its part.
import { compileSpec } from '../compile-spec';
import type { SpecError } from '../types';
import { joinChanges } from './join-rules';
import { outputChanges } from './output-rules';
import { queryChanges } from './query-rules';
import { sourceChanges } from './source-rules';
import { statefulChanges } from './stateful-rules';
import type { CompiledVersion, UpgradeReport } from './upgrade-types';

export function checkUpgrade(before: CompiledVersion, after: CompiledVersion): UpgradeReport {
  const pair = { before, after };
  const changes = [
    ...queryChanges(pair),
    ...sourceChanges(pair),
    ...statefulChanges(pair),
    ...joinChanges(pair),
    ...outputChanges(pair),
  ];
  return { compatible: !changes.some((c) => c.severity === 'incompatible'), changes };
}

export type CheckUpgradeTextResult =
  | { ok: true; report: UpgradeReport }
  /** `which` says which text did not compile: its errors are positioned in that text. */
  | { ok: false; which: 'before' | 'after'; errors: SpecError[] };

/** Convenience for two spec texts (YAML or JSON); a text that does not compile is reported, not thrown. */
export function checkUpgradeText(beforeText: string, afterText: string): CheckUpgradeTextResult {
  const before = compileSpec(beforeText);
  if (!before.ok) return { ok: false, which: 'before', errors: before.errors };
  const after = compileSpec(afterText);
  if (!after.ok) return { ok: false, which: 'after', errors: after.errors };
  return { ok: true, report: checkUpgrade(before, after) };
}
