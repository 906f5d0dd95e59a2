// Multi-window, multi-burn-rate alerting on a lag objective, as the Google SRE workbook's
// "Alerting on SLOs" chapter describes (its recommended approach, "Multiwindow, Multi-Burn-Rate
// Alerts"). The SLI is time-based: the share of time the query's lag stays at or below
// `maxLagSeconds`; the error budget is 1 - target over the SLO period.
//
// burn rate = (share of time above objective in a window) / (1 - target). A burn rate of 1 spends
// exactly the budget over the SLO period. An alert fires only when BOTH its long window and its
// short window (1/12 of the long one in the workbook) burn faster than its threshold: the long
// window gives significance, the short one makes the alert stop soon after the breach ends.
import {
  sortSamples,
  timeAboveObjective,
  DEFAULT_STALE_AFTER_MS,
  type LagSample,
  type WindowShare,
} from './time-above-objective';

export interface LagObjective {
  readonly maxLagSeconds: number;
  /** e.g. 0.99: lag at or below maxLagSeconds 99 % of the time. */
  readonly target: number;
}

export interface BurnRateAlert {
  readonly name: string;
  readonly longWindowMs: number;
  readonly shortWindowMs: number;
  /** Fires when both windows' burn rate is strictly above this (the workbook's `>`). */
  readonly burnRate: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The workbook's page-level pair for a 30-day budget: 2 % of the budget spent in 1 h
 * (burn 14.4, short window 5 m) and 5 % spent in 6 h (burn 6, short window 30 m). */
export const WORKBOOK_BURN_RATE_ALERTS: readonly BurnRateAlert[] = [
  { name: 'fast', longWindowMs: HOUR, shortWindowMs: 5 * MINUTE, burnRate: 14.4 },
  { name: 'slow', longWindowMs: 6 * HOUR, shortWindowMs: 30 * MINUTE, burnRate: 6 },
];

export interface SloBurnOptions {
  readonly alerts?: readonly BurnRateAlert[];
  readonly staleAfterMs?: number;
}

export interface WindowBurn extends WindowShare {
  readonly burnRate: number;
}

export interface BurnRateResult {
  readonly name: string;
  readonly threshold: number;
  readonly long: WindowBurn;
  readonly short: WindowBurn;
  readonly firing: boolean;
}

export interface SloBurn {
  readonly alerts: readonly BurnRateResult[];
  /** Names of the alerts that fire, in the order given. */
  readonly firing: readonly string[];
}

export function sloBurn(
  samples: readonly LagSample[],
  objective: LagObjective,
  nowMs: number,
  options: SloBurnOptions = {},
): SloBurn {
  const budget = budgetOf(objective);
  const sorted = sortSamples(samples);
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const burn = (windowMs: number): WindowBurn => {
    const share = timeAboveObjective(sorted, objective.maxLagSeconds, windowMs, nowMs, staleAfterMs);
    return { ...share, burnRate: share.badFraction / budget };
  };
  const alerts = (options.alerts ?? WORKBOOK_BURN_RATE_ALERTS).map((alert): BurnRateResult => {
    const long = burn(alert.longWindowMs);
    const short = burn(alert.shortWindowMs);
    return {
      name: alert.name,
      threshold: alert.burnRate,
      long,
      short,
      firing: fires(long.burnRate, short.burnRate, alert),
    };
  });
  return { alerts, firing: alerts.filter((a) => a.firing).map((a) => a.name) };
}

/**
 * Whether one burn-rate alert fires, as `sloBurn` reports it, without the windows' figures: the
 * evaluator asks this of every SLO rule of every query every tick and needs the figures only when
 * an alert changes state. The short window is measured only when the long one burns.
 */
export function burnRateAlertFires(
  samples: readonly LagSample[],
  objective: LagObjective,
  nowMs: number,
  alert: BurnRateAlert,
  staleAfterMs: number = DEFAULT_STALE_AFTER_MS,
): boolean {
  const budget = budgetOf(objective);
  const sorted = sortSamples(samples);
  const rate = (windowMs: number) =>
    timeAboveObjective(sorted, objective.maxLagSeconds, windowMs, nowMs, staleAfterMs).badFraction / budget;
  const long = rate(alert.longWindowMs);
  return long > alert.burnRate && fires(long, rate(alert.shortWindowMs), alert);
}

/** The workbook's `>` on both windows: the long one gives significance, the short one a quick stop. */
function fires(longBurnRate: number, shortBurnRate: number, alert: BurnRateAlert): boolean {
  return longBurnRate > alert.burnRate && shortBurnRate > alert.burnRate;
}

/** The error budget (1 - target); a target outside (0, 1) is refused. */
function budgetOf(objective: LagObjective): number {
  if (!(objective.target > 0 && objective.target < 1)) {
    throw new RangeError(`objective target must be in (0, 1), got ${objective.target}`);
  }
  return 1 - objective.target;
}

/** The workbook's derivation of a threshold: the burn rate that spends `budgetShare` of the
 * budget of `periodMs` within `windowMs` (0.02 of 30 days in 1 h → 14.4). */
export function burnRateFor(
  budgetShare: number,
  windowMs: number,
  periodMs: number = 30 * 24 * HOUR,
): number {
  return (budgetShare * periodMs) / windowMs;
}
