// Lifecycle of one alert, following Prometheus' alerting rule evaluation
// (prometheus/prometheus rules/alerting.go, AlertingRule.Eval) and what Alertmanager is sent:
//
//   inactive ──cond──▶ pending ──cond, `for` elapsed──▶ firing ──!cond──▶ resolved ──retention──▶ inactive
//                         │                                                   │
//                         └──!cond──▶ inactive (never fired)                  └──cond──▶ pending (new episode)
//
// - A new episode starts pending with activeAt = now; it fires once now - activeAt >= `for`,
//   checked in the same evaluation, so `for: 0` fires on the first true evaluation.
// - A pending alert whose condition clears is dropped without ever firing.
// - A firing alert whose condition clears is kept as resolved (Prometheus keeps it for
//   `resolvedRetention`, 15 minutes, so the resolution keeps being sent to Alertmanager) and then
//   forgotten. If the condition returns meanwhile, a new episode starts at pending, as Prometheus
//   does, rather than jumping back to firing.
// One alert exists per (query, rule) key; callers keep a map of `alertKey` → `AlertState`.

export type AlertPhase = 'inactive' | 'pending' | 'firing' | 'resolved';

export interface AlertRule {
  readonly name: string;
  /** Prometheus' `for`: how long the condition must hold before the alert fires. */
  readonly forMs: number;
  /** How long a resolved alert is kept (Prometheus' resolvedRetention, 15 minutes). */
  readonly resolvedRetentionMs?: number;
}

export const DEFAULT_RESOLVED_RETENTION_MS = 15 * 60_000;

export interface AlertState {
  readonly phase: AlertPhase;
  /** Start of the current episode (first true evaluation); null when inactive. */
  readonly activeAtMs: number | null;
  readonly firedAtMs: number | null;
  readonly resolvedAtMs: number | null;
}

/** What the step changed, for notifications and the audit trail; `none` when nothing did. */
export type AlertTransition =
  | 'none'
  | 'pending' // inactive/resolved → pending
  | 'firing' // pending → firing (or inactive → firing with for: 0)
  | 'resolved' // firing → resolved
  | 'cleared' // pending → inactive without firing
  | 'expired'; // resolved → inactive after the retention

export interface AlertStep {
  readonly state: AlertState;
  readonly transition: AlertTransition;
}

export const INACTIVE: AlertState = {
  phase: 'inactive',
  activeAtMs: null,
  firedAtMs: null,
  resolvedAtMs: null,
};

export function alertKey(queryId: string, ruleName: string): string {
  return JSON.stringify([queryId, ruleName]);
}

export function step(state: AlertState, conditionTrue: boolean, nowMs: number, rule: AlertRule): AlertStep {
  if (conditionTrue) {
    if (state.phase === 'firing') return { state, transition: 'none' };
    // Inactive and resolved both start a new episode; pending keeps its activeAt.
    const pending: AlertState =
      state.phase === 'pending'
        ? state
        : { phase: 'pending', activeAtMs: nowMs, firedAtMs: null, resolvedAtMs: null };
    if (nowMs - pending.activeAtMs! >= rule.forMs) {
      return { state: { ...pending, phase: 'firing', firedAtMs: nowMs }, transition: 'firing' };
    }
    return { state: pending, transition: state.phase === 'pending' ? 'none' : 'pending' };
  }

  switch (state.phase) {
    case 'inactive':
      return { state, transition: 'none' };
    case 'pending':
      return { state: INACTIVE, transition: 'cleared' };
    case 'firing':
      return { state: { ...state, phase: 'resolved', resolvedAtMs: nowMs }, transition: 'resolved' };
    case 'resolved': {
      // Prometheus drops the alert once strictly more than the retention has passed.
      const retention = rule.resolvedRetentionMs ?? DEFAULT_RESOLVED_RETENTION_MS;
      if (nowMs - state.resolvedAtMs! > retention) return { state: INACTIVE, transition: 'expired' };
      return { state, transition: 'none' };
    }
  }
}
