// The cost-to-meet-the-SLO frontier: each policy's main knob swept, every point the median over
// seeds, and the least instance-seconds at which a policy keeps the lag objective. A policy is
// then compared by what it costs to be good enough, not at one hand-picked setting.
import { SLUICE_TARGET_UTILIZATION, type Profile, type SimulationSummary } from '@sluice/scaling';
import { benchPolicy, runBaseline, simulationFor } from './run-matrix';
import { simulate } from '@sluice/scaling';

/** Violation seconds allowed: 1 % of the profile's duration. */
export const SLO_VIOLATION_BUDGET_SHARE = 0.01;
/** sluice must cost at most this share of the best baseline's costToMeetSlo. */
export const COST_TARGET_RATIO = 0.85;
/** Median actions to converge after a step, at most. */
export const CONVERGE_TARGET = 2;
/** Profiles of a family that must meet the per-profile targets. */
export const PROFILES_TO_MEET = 3;

export interface Knob {
  name: string;
  /** The values swept (five; `coarse` keeps the first, middle and last). */
  values: (profile: Profile) => number[];
}

/** Each policy's main knob, as issue 19 names them. */
export const KNOBS: Record<string, Knob> = {
  ds2: { name: 'targetUtilization', values: () => [0.5, 0.6, 0.7, 0.8, 0.9] },
  // scalingDownRatio scales with it (benchPolicy), keeping Spark's 0.9 : 0.3 proportion.
  'spark-ratio': { name: 'scalingUpRatio', values: () => [0.6, 0.7, 0.8, 0.9, 0.95] },
  // A decade of lag per replica: 5 % to 50 % of what one instance processes in one objective period.
  'keda-lag': { name: 'lagThreshold', values: () => [0.05, 0.1, 0.17, 0.3, 0.5] },
  sluice: { name: 'targetUtilization', values: () => [0.6, 0.7, 0.8, 0.85, 0.9] },
  // A reference, not a baseline (clairvoyant.ts): the busy fraction its foresight sizes for, one
  // of them sluice's own target, so the two can be set side by side at equal headroom.
  clairvoyant: { name: 'busyFraction', values: () => [0.8, SLUICE_TARGET_UTILIZATION, 0.9, 0.95, 1] },
};

/**
 * Swept beside the policies but never a baseline: what sizing with foresight of the rate costs,
 * so a cost target can be read against it (ProfileVerdict.clairvoyantCost).
 */
export const REFERENCE_POLICIES: readonly string[] = ['clairvoyant'];

export interface FrontierPoint {
  value: number;
  sloViolationSeconds: number;
  instanceSeconds: number;
  scaleActions: number;
  oscillations: number;
  actionsToConverge: number | null;
  /** spark-ratio only: whether the better of backpressure off/on (by median) had it on. */
  backpressure?: boolean;
}

export interface PolicyFrontier {
  knob: string;
  points: FrontierPoint[];
  costToMeetSlo: number | null;
}

export interface SluiceDefault {
  sloViolationSeconds: number;
  instanceSeconds: number;
  scaleActions: number;
  oscillations: number;
  actionsToConverge: number | null;
  lostRecords: number;
}

/** The `--frontier --json` document (issue 19 §3). */
export interface Frontier {
  profile: string;
  seeds: number;
  sloViolationBudgetSeconds: number;
  policies: Record<string, PolicyFrontier>;
  sluiceDefault: SluiceDefault;
}

export interface FrontierOptions {
  seeds: number;
  coarse?: boolean;
  policies?: readonly string[];
  /** Simulator tick (s); default the simulator's 0.1 s. A coarser tick trades batch timing for speed. */
  tickSeconds?: number;
  /** Run sluice at its default setting too (default true); chunks of a parallel run set it once. */
  sluiceDefault?: boolean;
  /** Called after every simulation, for progress output. */
  onRun?: (done: number, total: number) => void;
}

/** The profile with its k-th seed (k = 0 is the profile's own). */
export function withSeed(profile: Profile, k: number): Profile {
  return { ...profile, noise: { ...profile.noise, seed: profile.noise.seed + 1000 * k } };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median of the non-null values; null when every run had none (no step in the profile). */
export function medianOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : median(present);
}

/** Per-metric medians over seeds; oscillations are the 15-minute reversals (countReversals). */
export function medianPoint(value: number, runs: readonly SimulationSummary[]): FrontierPoint {
  return {
    value,
    sloViolationSeconds: median(runs.map((r) => r.sloViolationSeconds)),
    instanceSeconds: median(runs.map((r) => r.instanceSeconds)),
    scaleActions: median(runs.map((r) => r.scaleActions)),
    oscillations: median(runs.map((r) => r.reversals)),
    actionsToConverge: medianOrNull(runs.map((r) => r.actionsToConverge)),
  };
}

/** Least instance-seconds among points within the violation budget; null when none is. */
export function costToMeetSlo(points: readonly FrontierPoint[], budgetSeconds: number): number | null {
  const ok = points.filter((p) => p.sloViolationSeconds <= budgetSeconds);
  return ok.length === 0 ? null : Math.min(...ok.map((p) => p.instanceSeconds));
}

const better = (a: FrontierPoint, b: FrontierPoint) =>
  a.sloViolationSeconds < b.sloViolationSeconds ||
  (a.sloViolationSeconds === b.sloViolationSeconds && a.instanceSeconds < b.instanceSeconds);

export function sweepValues(policy: string, profile: Profile, coarse: boolean): number[] {
  const knob = KNOBS[policy];
  if (!knob) throw new Error(`no knob defined for policy "${policy}"`);
  const values = knob.values(profile);
  // A reference is always swept whole: its points are what the verdicts read (sluice's target
  // among them), and it is as cheap as one more policy.
  return coarse && !REFERENCE_POLICIES.includes(policy)
    ? [values[0], values[Math.floor(values.length / 2)], values[values.length - 1]].map(Number)
    : values;
}

export interface FrontierRun {
  frontier: Frontier;
  /** Reversals of sluice at its default summed over every seed (the target is 0, not a median). */
  sluiceReversalsAllSeeds: number;
}

export function runFrontier(profile: Profile, options: FrontierOptions): FrontierRun {
  const { seeds } = options;
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new RangeError(`seeds must be an integer >= 1, got ${seeds}`);
  const policies = options.policies ?? Object.keys(KNOBS);
  const budget = Math.floor(SLO_VIOLATION_BUDGET_SHARE * profile.durationSeconds);
  const seeded = Array.from({ length: seeds }, (_, k) => withSeed(profile, k));
  const plan = policies.map((policy) => ({
    policy,
    values: sweepValues(policy, profile, options.coarse ?? false),
  }));
  const runsPerValue = (policy: string) => (policy === 'sluice' ? 1 : 2);
  const withDefault = options.sluiceDefault ?? true;
  const tickOption = options.tickSeconds === undefined ? {} : { tickSeconds: options.tickSeconds };
  const total =
    plan.reduce((n, p) => n + p.values.length * runsPerValue(p.policy), 0) * seeds +
    (withDefault ? seeds : 0);
  let done = 0;
  const tick = () => options.onRun?.(++done, total);

  const result: Record<string, PolicyFrontier> = {};
  for (const { policy, values } of plan) {
    const points = values.map((value) => {
      if (policy === 'sluice') {
        // As the live loop runs it: only its own read-rate cap (see SluicePolicy and simulate's pid).
        const runs = seeded.map((p) => {
          const r = runBaseline(p, policy, value, options.tickSeconds).summary;
          tick();
          return r;
        });
        return medianPoint(value, runs);
      }
      // Every baseline: backpressure off and on (Spark's PID estimator), each the median over
      // seeds; the better one. Off is Spark's default and how Flink's and KEDA's consumers read (as
      // fast as they process); on can only help a baseline that benefits from it.
      const off = seeded.map((p) => {
        const r = simulate(p, benchPolicy(policy, p, value), {
          pid: false,
          ...tickOption,
          ...simulationFor(policy),
        }).summary;
        tick();
        return r;
      });
      const on = seeded.map((p) => {
        const r = simulate(p, benchPolicy(policy, p, value), {
          pid: true,
          ...tickOption,
          ...simulationFor(policy),
        }).summary;
        tick();
        return r;
      });
      const pOff = { ...medianPoint(value, off), backpressure: false };
      const pOn = { ...medianPoint(value, on), backpressure: true };
      return better(pOn, pOff) ? pOn : pOff;
    });
    const knob = KNOBS[policy] as Knob;
    result[policy] = {
      knob: knob.name,
      points:
        policy === 'keda-lag'
          ? points.map((p) => ({ ...p, value: kedaThreshold(profile, p.value) }))
          : points,
      costToMeetSlo: costToMeetSlo(points, budget),
    };
  }

  const defaults = withDefault
    ? seeded.map((p) => {
        const r = runBaseline(p, 'sluice', undefined, options.tickSeconds).summary;
        tick();
        return r;
      })
    : [];
  if (defaults.length === 0) {
    // A chunk of a parallel run: the sluice default comes from another chunk (see mergeRuns).
    return {
      frontier: {
        profile: profile.name,
        seeds,
        sloViolationBudgetSeconds: budget,
        policies: result,
        sluiceDefault: EMPTY_DEFAULT,
      },
      sluiceReversalsAllSeeds: 0,
    };
  }
  const d = medianPoint(0, defaults);
  const frontier: Frontier = {
    profile: profile.name,
    seeds,
    sloViolationBudgetSeconds: budget,
    policies: result,
    sluiceDefault: {
      sloViolationSeconds: d.sloViolationSeconds,
      instanceSeconds: d.instanceSeconds,
      scaleActions: d.scaleActions,
      oscillations: d.oscillations,
      actionsToConverge: d.actionsToConverge,
      // Not a median: any seed losing a record is a failure.
      lostRecords: defaults.reduce((n, r) => n + Math.abs(r.lostRecords), 0),
    },
  };
  return { frontier, sluiceReversalsAllSeeds: defaults.reduce((n, r) => n + r.reversals, 0) };
}

/** The lag threshold (records per replica) a KEDA share stands for on this profile. */
export function kedaThreshold(profile: Profile, share: number): number {
  return Math.max(1, Math.round(share * profile.instance.capacity * profile.slo.maxLagSeconds));
}

export interface ProfileVerdict {
  profile: string;
  family: string;
  violationsMet: boolean;
  bestBaseline: { policy: string; cost: number } | null;
  costRatio: number | null;
  /** The most instance·s the cost target allows (COST_TARGET_RATIO × the best baseline's cost). */
  costLine: number | null;
  /** The clairvoyant reference's costToMeetSlo, when it was swept and met the SLO. */
  clairvoyantCost: number | null;
  /** Its point at sluice's default target utilisation: sizing with foresight at equal headroom. */
  clairvoyantAtTarget: FrontierPoint | null;
  costMet: boolean;
  converge: number | null;
  convergeMet: boolean;
  /** Summed over all seeds. */
  reversals: number;
  lostRecords: number;
  met: boolean;
}

/** Issue 19's targets for sluice at its default setting on one profile. */
export function judgeProfile(run: FrontierRun, family: string): ProfileVerdict {
  const f = run.frontier;
  const d = f.sluiceDefault;
  const baselines = Object.entries(f.policies)
    .filter(
      ([name, p]) => name !== 'sluice' && !REFERENCE_POLICIES.includes(name) && p.costToMeetSlo !== null,
    )
    .map(([policy, p]) => ({ policy, cost: p.costToMeetSlo as number }))
    .sort((a, b) => a.cost - b.cost);
  const best = baselines[0] ?? null;
  const violationsMet = d.sloViolationSeconds <= f.sloViolationBudgetSeconds;
  const costRatio = best ? d.instanceSeconds / best.cost : null;
  const costMet = costRatio === null || costRatio <= COST_TARGET_RATIO;
  const convergeMet = d.actionsToConverge === null || d.actionsToConverge <= CONVERGE_TARGET;
  return {
    profile: f.profile,
    family,
    violationsMet,
    bestBaseline: best,
    costRatio,
    costLine: best ? COST_TARGET_RATIO * best.cost : null,
    clairvoyantCost: f.policies.clairvoyant?.costToMeetSlo ?? null,
    clairvoyantAtTarget:
      f.policies.clairvoyant?.points.find((p) => p.value === SLUICE_TARGET_UTILIZATION) ?? null,
    costMet,
    converge: d.actionsToConverge,
    convergeMet,
    reversals: run.sluiceReversalsAllSeeds,
    lostRecords: d.lostRecords,
    met: violationsMet && costMet,
  };
}

const EMPTY_DEFAULT: SluiceDefault = {
  sloViolationSeconds: Number.NaN,
  instanceSeconds: Number.NaN,
  scaleActions: Number.NaN,
  oscillations: Number.NaN,
  actionsToConverge: null,
  lostRecords: Number.NaN,
};

/**
 * Joins chunks of one profile's frontier run in parallel: each chunk holds some policies, exactly
 * one holds the sluice default. Policies keep the order of KNOBS.
 */
export function mergeRuns(chunks: readonly FrontierRun[]): FrontierRun {
  const first = chunks[0];
  if (!first) throw new RangeError('no chunks to merge');
  // NaN travels through JSON as null: a chunk without the default has no finite instance-seconds.
  const withDefault = chunks.filter((c) => Number.isFinite(c.frontier.sluiceDefault.instanceSeconds));
  if (withDefault.length !== 1)
    throw new Error(`${first.frontier.profile}: expected one chunk with the sluice default`);
  const policies: Record<string, PolicyFrontier> = {};
  for (const name of Object.keys(KNOBS)) {
    const found = chunks.find((c) => c.frontier.policies[name] !== undefined)?.frontier.policies[name];
    if (found) policies[name] = found;
  }
  const d = withDefault[0] as FrontierRun;
  return {
    frontier: { ...first.frontier, policies, sluiceDefault: d.frontier.sluiceDefault },
    sluiceReversalsAllSeeds: d.sluiceReversalsAllSeeds,
  };
}
