import type { Condition } from './reconcile-decision';

export interface StoredCondition extends Condition {
  lastTransitionTime: string;
}

/** Keeps lastTransitionTime when a condition's status did not change (Kubernetes semantics). */
export function mergeConditions(
  previous: StoredCondition[],
  next: Condition[],
  now: Date,
): StoredCondition[] {
  return next.map((c) => {
    const old = previous.find((p) => p.type === c.type);
    return {
      ...c,
      lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now.toISOString(),
    };
  });
}

export function asStoredConditions(value: unknown): StoredCondition[] {
  return Array.isArray(value) ? (value as StoredCondition[]) : [];
}
