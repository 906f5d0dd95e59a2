// AlertRule rows ↔ @sluice/alerting rule definitions, and the default rule set written on deploy.
import { DEFAULT_RULES, type AnyRuleDefinition } from '@sluice/alerting';
import type { AlertRule, Prisma } from '../generated/prisma/client';

/** The columns of an AlertRule row a definition is made of (the evaluation's worker thread gets
 * them as plain data). */
export interface RuleColumns {
  name: string;
  kind: string;
  params: unknown;
  forSeconds: number;
  severity: string;
  labels: unknown;
  annotations: unknown;
}

export function definitionOf(row: RuleColumns): AnyRuleDefinition {
  return {
    name: row.name,
    kind: row.kind,
    params: row.params,
    forSeconds: row.forSeconds,
    severity: row.severity,
    labels: row.labels,
    annotations: row.annotations,
    metric: { metrics: [], aggregation: 'value', semantics: '' },
  } as unknown as AnyRuleDefinition;
}

export function defaultRuleRows(): Prisma.AlertRuleCreateManyInput[] {
  return DEFAULT_RULES.map((r) => ({
    name: r.name,
    kind: r.kind,
    params: r.params as unknown as Prisma.InputJsonValue,
    forSeconds: r.forSeconds,
    severity: r.severity,
    labels: r.labels,
    annotations: { ...r.annotations },
    builtIn: true,
    updatedBy: 'default rules',
  }));
}

export function ruleView(row: AlertRule) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    params: row.params as Record<string, unknown>,
    forSeconds: row.forSeconds,
    severity: row.severity,
    labels: row.labels as Record<string, string>,
    annotations: row.annotations as Record<string, string>,
    queries: row.queries,
    enabled: row.enabled,
    cluster: row.cluster,
    builtIn: row.builtIn,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: row.updatedBy,
  };
}
