// Evaluates one rule against what the control plane knows of one query at one instant. Pure: the
// control plane gathers a QuerySnapshot (lag per partition, Burrow commit windows, lag samples,
// phase, crashes, last progress) and `evaluateRule` says whether the condition holds, with the
// value and figures the annotations quote. `step()` (alert-lifecycle.ts) turns the conditions
// into pending/firing/resolved.
import { consumerStatus, type ConsumerStatus } from './consumer-status';
import { DEFAULT_WINDOW_SIZE, type PartitionInput, type WindowOptions } from './partition-status';
import type { AnyRuleDefinition, HealthCheck, QueryHealthParams } from './rule-definitions';
import { promDuration } from './rule-definitions';
import { sloBurn } from './slo-burn';
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

export function evaluateRule(rule: AnyRuleDefinition, q: QuerySnapshot, nowMs: number): Evaluation {
  switch (rule.kind) {
    case 'timeLag': {
      const worst = maxBy(q.partitions, (p) => p.secondsBehind);
      if (!worst || worst.secondsBehind === null) return total(q) > 0 ? UNKNOWN : INACTIVE;
      // Up to the next tenth, not to the nearest: a lag of 15.03 s is above a 15 s threshold, and
      // the figure a firing alert shows must not read 15 (CI caught exactly that).
      // (less a hair: 1.1 * 10 is 11.000000000000002 in floating point, which would show 1.2).
      const value = Math.ceil(worst.secondsBehind * 10 - 1e-9) / 10;
      return {
        active: worst.secondsBehind > rule.params.thresholdSeconds,
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
      const worst = maxBy(q.partitions, (p) => p.recordsBehind);
      if (!worst) return INACTIVE;
      return {
        active: worst.recordsBehind > rule.params.thresholdRecords,
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
      const s = consumerStatusOf(q, nowMs, {
        windowSize: rule.params.windowSize,
        minimumComplete: rule.params.minimumComplete,
      });
      const worst = s.partitions.find((p) => p.status === s.status) ?? s.maxLag;
      const statuses: readonly string[] = rule.params.statuses;
      return {
        active: statuses.includes(s.status),
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
      const r = sloBurn(q.lagSamples, { maxLagSeconds: p.maxLagSeconds, target: p.target }, nowMs, {
        alerts: [
          {
            name: rule.name,
            longWindowMs: p.longWindowSeconds * 1000,
            shortWindowMs: p.shortWindowSeconds * 1000,
            burnRate: p.burnRate,
          },
        ],
      }).alerts[0]!;
      return {
        active: r.firing,
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
      return evaluateHealth(rule.params, q, nowMs);
  }
}

const statusMemo = new WeakMap<QuerySnapshot, Map<string, ConsumerStatus>>();

/**
 * Burrow's status of a snapshot's commit windows, computed once per (snapshot, instant, window
 * options): the ERROR and WARNING rules and the `sluice_consumer_status` gauge all ask for the same
 * one (16 partitions × 1,000 queries three times per tick otherwise).
 */
export function consumerStatusOf(
  q: QuerySnapshot,
  nowMs: number,
  options: WindowOptions = {},
): ConsumerStatus {
  const key = `${nowMs}/${options.windowSize ?? DEFAULT_WINDOW_SIZE}/${options.minimumComplete ?? 0}`;
  let memo = statusMemo.get(q);
  if (!memo) {
    memo = new Map();
    statusMemo.set(q, memo);
  }
  let s = memo.get(key);
  if (!s) {
    s = consumerStatus({ partitions: q.commits, nowMs }, options);
    memo.set(key, s);
  }
  return s;
}

function evaluateHealth(p: QueryHealthParams, q: QuerySnapshot, nowMs: number): Evaluation {
  const check: HealthCheck = p.check;
  const silenceMs = q.lastProgressAtMs === null ? null : nowMs - q.lastProgressAtMs;
  const silenceFigures = {
    silence: silenceMs === null ? 'ever' : promDuration(Math.floor(silenceMs / 1000)),
    lastProgressAt: q.lastProgressAtMs === null ? 'never' : new Date(q.lastProgressAtMs).toISOString(),
    totalLagRecords: total(q),
  };
  switch (check) {
    case 'failed':
      return {
        active: q.phase === 'FAILED',
        value: q.phase === 'FAILED' ? 1 : 0,
        figures: { phase: q.phase, message: q.message ?? '' },
      };
    case 'crashLooping': {
      const windowMs = (p.windowSeconds ?? 600) * 1000;
      const crashes = q.crashTimesMs.filter((t) => nowMs - t <= windowMs).length;
      return {
        active: q.phase !== 'STOPPED' && crashes >= (p.crashes ?? 3),
        value: crashes,
        figures: { crashes, window: promDuration(p.windowSeconds ?? 600) },
      };
    }
    case 'stalled': {
      // A query that never reported progress is not stalled: it is starting (noProgress covers it).
      if (q.desiredState !== 'RUNNING' || silenceMs === null) return INACTIVE;
      const silent = silenceMs > (p.silenceSeconds ?? 120) * 1000;
      return {
        active: silent && total(q) > 0,
        value: Math.floor(silenceMs / 1000),
        figures: silenceFigures,
      };
    }
    case 'noProgress': {
      if (q.desiredState !== 'RUNNING' || q.phase === 'STOPPED') return INACTIVE;
      const limitMs = (p.silenceSeconds ?? 900) * 1000;
      // Never reported: measured from nothing we know, so only an existing silence counts.
      if (silenceMs === null) return INACTIVE;
      return { active: silenceMs > limitMs, value: Math.floor(silenceMs / 1000), figures: silenceFigures };
    }
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
