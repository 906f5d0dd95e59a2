// Evaluates one rule against what the control plane knows of one query at one instant. Pure: the
// control plane gathers a QuerySnapshot (lag per partition, Burrow commit windows, lag samples,
// phase, crashes, last progress) and `evaluateRule` says whether the condition holds, with the
// value and figures the annotations quote. `step()` (alert-lifecycle.ts) turns the conditions
// into pending/firing/resolved.
import { consumerStatus, type ConsumerStatus } from './consumer-status';
import { DEFAULT_WINDOW_SIZE, type PartitionInput, type WindowOptions } from './partition-status';
import type { AnyRuleDefinition, HealthCheck, QueryHealthParams, RuleDefinition } from './rule-definitions';
import { promDuration } from './rule-definitions';
import { burnRateAlertFires, sloBurn, type BurnRateAlert, type BurnRateResult } from './slo-burn';
import type { LagSample } from './time-above-objective';

export interface PartitionLagSnapshot {
  readonly topic: string;
  readonly partition: number;
  readonly recordsBehind: number;
  /** Age of the oldest uncommitted record; null while the offset→time table cannot tell. */
  readonly secondsBehind: number | null;
}

export interface QuerySnapshot {
  readonly queryId: string;
  readonly name: string;
  /** QueryPhase: PENDING, DEPLOYING, RUNNING, STOPPED, DEGRADED, FAILED. */
  readonly phase: string;
  readonly desiredState: 'RUNNING' | 'STOPPED';
  /** The phase's message (e.g. why it FAILED), for the description. */
  readonly message: string | null;
  readonly lastProgressAtMs: number | null;
  /** Abnormal exits (the reconciler's bounded crash list). */
  readonly crashTimesMs: readonly number[];
  readonly partitions: readonly PartitionLagSnapshot[];
  /** Burrow's per-partition commit windows (query-history.ts). */
  readonly commits: readonly PartitionInput[];
  /** Max lag seconds over partitions, over time (for SLO burn). */
  readonly lagSamples: readonly LagSample[];
}

export type Figures = Readonly<Record<string, string | number | null>>;

export interface Evaluation {
  readonly active: boolean;
  /** No evidence either way (e.g. no time estimate yet): the alert keeps its state. */
  readonly unknown?: boolean;
  /** The alert's `$value`: the figure the threshold is compared with. */
  readonly value: number | null;
  readonly figures: Figures;
}

const INACTIVE: Evaluation = { active: false, value: null, figures: {} };
const UNKNOWN: Evaluation = { active: false, unknown: true, value: null, figures: {} };

/** Whether a rule's condition holds: `unknown` = no evidence either way (the alert keeps its state). */
export type Verdict = 'active' | 'inactive' | 'unknown';

/**
 * The condition alone, without the value and figures the annotations quote: the evaluator asks
 * this of every rule on every query every tick (16,000 pairs at 1,000 queries) and needs the
 * figures only when an alert changes state, so building them for every pair (strings, ISO dates,
 * objects) was most of the rules' allocation. `evaluateRule` is this plus the figures.
 */
export function judgeRule(rule: AnyRuleDefinition, q: QuerySnapshot, nowMs: number): Verdict {
  switch (rule.kind) {
    case 'timeLag': {
      const worst = worstSeconds(q);
      if (!worst) return total(q) > 0 ? 'unknown' : 'inactive';
      return verdict(worst.secondsBehind! > rule.params.thresholdSeconds);
    }
    case 'recordsLag': {
      const worst = worstRecords(q);
      if (!worst) return 'inactive';
      return verdict(worst.recordsBehind > rule.params.thresholdRecords);
    }
    case 'consumerStatus': {
      if (q.commits.length === 0) return 'inactive';
      const statuses: readonly string[] = rule.params.statuses;
      return verdict(statuses.includes(consumerStatusOfRule(q, nowMs, rule.params).status));
    }
    case 'sloBurn': {
      const p = rule.params;
      return verdict(
        burnRateAlertFires(
          q.lagSamples,
          { maxLagSeconds: p.maxLagSeconds, target: p.target },
          nowMs,
          burnAlertOf(rule),
        ),
      );
    }
    case 'queryHealth':
      return verdict(healthActive(rule.params, q, nowMs));
  }
}

export function evaluateRule(rule: AnyRuleDefinition, q: QuerySnapshot, nowMs: number): Evaluation {
  const v = judgeRule(rule, q, nowMs);
  if (v === 'unknown') return UNKNOWN;
  const active = v === 'active';
  switch (rule.kind) {
    case 'timeLag': {
      const worst = worstSeconds(q);
      if (!worst) return INACTIVE;
      // Up to the next tenth, not to the nearest: a lag of 15.03 s is above a 15 s threshold, and
      // the figure a firing alert shows must not read 15 (CI caught exactly that).
      // (less a hair: 1.1 * 10 is 11.000000000000002 in floating point, which would show 1.2).
      const value = Math.ceil(worst.secondsBehind! * 10 - 1e-9) / 10;
      return {
        active,
        value,
        figures: {
          maxLagSeconds: value,
          partition: `${worst.topic}/${worst.partition}`,
          threshold: rule.params.thresholdSeconds,
          totalLagRecords: total(q),
        },
      };
    }
    case 'recordsLag': {
      const worst = worstRecords(q);
      if (!worst) return INACTIVE;
      return {
        active,
        value: worst.recordsBehind,
        figures: {
          maxLagRecords: worst.recordsBehind,
          partition: `${worst.topic}/${worst.partition}`,
          totalLagRecords: total(q),
          threshold: rule.params.thresholdRecords,
        },
      };
    }
    case 'consumerStatus': {
      if (q.commits.length === 0) return INACTIVE;
      const s = consumerStatusOfRule(q, nowMs, rule.params);
      const worst = s.partitions.find((p) => p.status === s.status) ?? s.maxLag;
      return {
        active,
        value: { OK: 1, WARNING: 2, STOP: 4, STALL: 5, REWIND: 6 }[s.status],
        figures: {
          status: s.status,
          level: s.level,
          partition: worst ? `${worst.topic}/${worst.partition}` : null,
          totalLagRecords: s.totalLag,
          windowSize: rule.params.windowSize,
          completeness: round(s.completeness, 2),
        },
      };
    }
    case 'sloBurn': {
      const p = rule.params;
      const r = sloBurnResult(rule, q, nowMs);
      return {
        active,
        value: round(Math.min(r.long.burnRate, r.short.burnRate), 2),
        figures: {
          maxLagSeconds: p.maxLagSeconds,
          longWindow: promDuration(p.longWindowSeconds),
          shortWindow: promDuration(p.shortWindowSeconds),
          longBadPercent: round(r.long.badFraction * 100, 2),
          shortBadPercent: round(r.short.badFraction * 100, 2),
          longBurnRate: round(r.long.burnRate, 2),
          shortBurnRate: round(r.short.burnRate, 2),
          threshold: p.burnRate,
        },
      };
    }
    case 'queryHealth':
      return describeHealth(rule.params, q, nowMs, active);
  }
}

type SloBurnRule = RuleDefinition<'sloBurn'>;

const verdict = (active: boolean): Verdict => (active ? 'active' : 'inactive');

/** The partition furthest behind in time (none while no partition has a time estimate). */
const worstSeconds = (q: QuerySnapshot) => maxBy(q.partitions, (p) => p.secondsBehind);
const worstRecords = (q: QuerySnapshot) => maxBy(q.partitions, (p) => p.recordsBehind);

function consumerStatusOfRule(
  q: QuerySnapshot,
  nowMs: number,
  p: { windowSize: number; minimumComplete: number },
): ConsumerStatus {
  return consumerStatusOf(q, nowMs, { windowSize: p.windowSize, minimumComplete: p.minimumComplete });
}

function sloBurnResult(rule: SloBurnRule, q: QuerySnapshot, nowMs: number): BurnRateResult {
  const p = rule.params;
  return sloBurn(q.lagSamples, { maxLagSeconds: p.maxLagSeconds, target: p.target }, nowMs, {
    alerts: [burnAlertOf(rule)],
  }).alerts[0]!;
}

function burnAlertOf(rule: SloBurnRule): BurnRateAlert {
  const p = rule.params;
  return {
    name: rule.name,
    longWindowMs: p.longWindowSeconds * 1000,
    shortWindowMs: p.shortWindowSeconds * 1000,
    burnRate: p.burnRate,
  };
}

interface MemoEntry {
  readonly nowMs: number;
  readonly windowSize: number;
  readonly minimumComplete: number;
  readonly status: ConsumerStatus;
}

const statusMemo = new WeakMap<QuerySnapshot, MemoEntry[]>();

/**
 * Burrow's status of a snapshot's commit windows, computed once per (snapshot, instant, window
 * options): the ERROR and WARNING rules and the `sluice_consumer_status` gauge all ask for the same
 * one (16 partitions × 1,000 queries three times per tick otherwise). The memo is a short list
 * scanned by value (one or two entries in practice), not a map keyed by a string built per call.
 */
export function consumerStatusOf(
  q: QuerySnapshot,
  nowMs: number,
  options: WindowOptions = {},
): ConsumerStatus {
  const windowSize = options.windowSize ?? DEFAULT_WINDOW_SIZE;
  const minimumComplete = options.minimumComplete ?? 0;
  let memo = statusMemo.get(q);
  if (!memo) {
    memo = [];
    statusMemo.set(q, memo);
  }
  for (const e of memo)
    if (e.nowMs === nowMs && e.windowSize === windowSize && e.minimumComplete === minimumComplete)
      return e.status;
  const status = consumerStatus({ partitions: q.commits, nowMs }, options);
  memo.push({ nowMs, windowSize, minimumComplete, status });
  return status;
}

/** The health checks' conditions (queryHealth rules): phase, crashes and progress. */
function healthActive(p: QueryHealthParams, q: QuerySnapshot, nowMs: number): boolean {
  const check: HealthCheck = p.check;
  const silenceMs = q.lastProgressAtMs === null ? null : nowMs - q.lastProgressAtMs;
  switch (check) {
    case 'failed':
      return q.phase === 'FAILED';
    case 'crashLooping':
      return q.phase !== 'STOPPED' && recentCrashes(p, q, nowMs) >= (p.crashes ?? 3);
    case 'stalled':
      // A query that never reported progress is not stalled: it is starting (noProgress covers it).
      if (q.desiredState !== 'RUNNING' || silenceMs === null) return false;
      return silenceMs > (p.silenceSeconds ?? 120) * 1000 && total(q) > 0;
    case 'noProgress':
      if (q.desiredState !== 'RUNNING' || q.phase === 'STOPPED') return false;
      // Never reported: measured from nothing we know, so only an existing silence counts.
      if (silenceMs === null) return false;
      return silenceMs > (p.silenceSeconds ?? 900) * 1000;
  }
}

function recentCrashes(p: QueryHealthParams, q: QuerySnapshot, nowMs: number): number {
  const windowMs = (p.windowSeconds ?? 600) * 1000;
  let n = 0;
  for (const t of q.crashTimesMs) if (nowMs - t <= windowMs) n++;
  return n;
}

/** The health checks' value and figures (healthActive decided `active`). */
function describeHealth(p: QueryHealthParams, q: QuerySnapshot, nowMs: number, active: boolean): Evaluation {
  const check: HealthCheck = p.check;
  const silenceMs = q.lastProgressAtMs === null ? null : nowMs - q.lastProgressAtMs;
  const silenceFigures = () => ({
    silence: silenceMs === null ? 'ever' : promDuration(Math.floor(silenceMs / 1000)),
    lastProgressAt: q.lastProgressAtMs === null ? 'never' : new Date(q.lastProgressAtMs).toISOString(),
    totalLagRecords: total(q),
  });
  switch (check) {
    case 'failed':
      return {
        active,
        value: q.phase === 'FAILED' ? 1 : 0,
        figures: { phase: q.phase, message: q.message ?? '' },
      };
    case 'crashLooping': {
      const crashes = recentCrashes(p, q, nowMs);
      return { active, value: crashes, figures: { crashes, window: promDuration(p.windowSeconds ?? 600) } };
    }
    case 'stalled':
      if (q.desiredState !== 'RUNNING' || silenceMs === null) return INACTIVE;
      return { active, value: Math.floor(silenceMs / 1000), figures: silenceFigures() };
    case 'noProgress':
      if (q.desiredState !== 'RUNNING' || q.phase === 'STOPPED' || silenceMs === null) return INACTIVE;
      return { active, value: Math.floor(silenceMs / 1000), figures: silenceFigures() };
  }
}

function maxBy<T>(items: readonly T[], key: (t: T) => number | null): T | undefined {
  let best: T | undefined;
  let bestKey = -Infinity;
  for (const it of items) {
    const k = key(it);
    if (k !== null && k > bestKey) {
      best = it;
      bestKey = k;
    }
  }
  return best;
}

function total(q: QuerySnapshot): number {
  let n = 0;
  for (const p of q.partitions) n += p.recordsBehind;
  return n;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
