// Shapes of the upgrade compatibility report (checkUpgrade). The report is also the JSON the
// engine CLI prints with `compat --json`, so its field names are a contract.
import type { LogicalPlan } from '../plan/logical-plan';
import type { QuerySpec } from '../types';

/**
 * allowed: the new version resumes from the old checkpoint with the usual semantics.
 * caveat: it resumes, but results around the switch differ from a fresh start (say why).
 * incompatible: resuming would misread the checkpoint, its state or the sink; start a new one.
 */
export type ChangeSeverity = 'allowed' | 'caveat' | 'incompatible';

export interface UpgradeChange {
  /** Stable identifier of the rule, e.g. "aggregate.keys", "sink.type". */
  kind: string;
  severity: ChangeSeverity;
  /** Plan operator id the change concerns ("scan", "filter", "aggregate", "dedupe", "project"). */
  operator?: string;
  /** Spec path, as in SpecError paths ("sources.clicks.schema.bytes", "sink.postgres.table"). */
  path?: string;
  before?: string;
  after?: string;
  message: string;
}

export interface UpgradeReport {
  /** True when no change is incompatible. */
  compatible: boolean;
  changes: UpgradeChange[];
}

/** What the analyzer needs of a version: the ok branch of a CompileResult fits. */
export interface CompiledVersion {
  spec: QuerySpec;
  plan: LogicalPlan;
}

/** Both versions, passed to every rule. */
export interface UpgradePair {
  before: CompiledVersion;
  after: CompiledVersion;
}
