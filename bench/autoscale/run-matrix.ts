// Runs policies over profiles in the simulator and checks the targets against the results.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  parseProfile,
  policyByName,
  POLICY_NAMES,
  SCALE_GATE_DEFAULTS,
  simulate,
  type Profile,
  type ScalingPolicy,
  type SimulationOptions,
  type SimulationSummary,
} from '@sluice/scaling';
import { ClairvoyantPolicy } from './clairvoyant';

export const PROFILE_DIR = path.resolve(__dirname, '..', 'profiles');
/** The shipped profiles, in the order the report lists them. */
export const SHIPPED_PROFILES = ['step', 'ramp', 'diurnal', 'spike'];

export function loadProfile(file: string): Profile {
  return parseProfile(JSON.parse(readFileSync(file, 'utf8')));
}

export function loadShippedProfiles(): Profile[] {
  const files = readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.json'));
  const order = (name: string) =>
    SHIPPED_PROFILES.includes(name) ? SHIPPED_PROFILES.indexOf(name) : SHIPPED_PROFILES.length;
  return files
    .map((f) => loadProfile(path.join(PROFILE_DIR, f)))
    .sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
}

/**
 * A policy configured for a profile. Every policy whose real system has a lag setting gets the
 * profile's objective there: ds2's catch-up duration and backlog threshold are the objective (and its
 * restart time the profile's real full-restart cost, as restart-time tracking measures it); KEDA's
 * lag threshold (records per replica) is a share of what one instance processes in one objective
 * period (KEDA's own default of 10 records would scale to the partition count on any traffic).
 * `knob` overrides the policy's main knob (see KNOBS) for frontier sweeps.
 */
export function benchPolicy(name: string, profile: Profile, knob?: number): ScalingPolicy {
  if (name === 'clairvoyant') return new ClairvoyantPolicy(profile, knob ?? CLAIRVOYANT_DEFAULT_BUSY);
  const slo = profile.slo.maxLagSeconds;
  const sparkUp = knob ?? SPARK_DEFAULT_UP;
  return policyByName(name, {
    ds2: {
      catchUpSeconds: slo,
      backlogLagThresholdSeconds: slo,
      // What Flink's restart-time tracking would learn: a full restart = start-up + rejoin pause.
      restartSeconds: profile.instance.startupSeconds + profile.instance.rebalancePauseSeconds,
      ...(knob !== undefined && { targetUtilization: knob }),
    },
    'spark-ratio': {
      scalingUpRatio: sparkUp,
      scalingDownRatio: (sparkUp * SPARK_DEFAULT_DOWN) / SPARK_DEFAULT_UP,
    },
    'keda-lag': {
      lagThreshold: Math.max(1, Math.round((knob ?? KEDA_DEFAULT_SHARE) * profile.instance.capacity * slo)),
    },
    sluice: knob !== undefined ? { targetUtilization: knob } : {},
  });
}

/**
 * What the simulator adds for a policy: Sluice's own runs under its control plane's hold between
 * scale actions (the live loop's defaults); a baseline stands for its own system, whose timing is
 * in its policy (ds2's 60 s evaluation and stabilisation, the HPA's windows, Spark's timeouts).
 */
export function simulationFor(name: string): Pick<SimulationOptions, 'gate'> {
  return name === 'sluice' ? { gate: SCALE_GATE_DEFAULTS } : {};
}

/** The clairvoyant reference's busy fraction outside a sweep (clairvoyant.ts). */
const CLAIRVOYANT_DEFAULT_BUSY = 0.9;
/** Spark's defaults; a swept scalingUpRatio scales scalingDownRatio by the same factor. */
const SPARK_DEFAULT_UP = 0.9;
const SPARK_DEFAULT_DOWN = 0.3;
/** KEDA's lag threshold in the single-run table: one trigger of one instance at the 60 s objective. */
const KEDA_DEFAULT_SHARE = 1 / 6;

/**
 * One run as the benchmark reports it. A baseline runs with backpressure off (Spark's default; how
 * Flink's and KEDA's consumers read) and on (Spark's PID estimator), and the better of the two
 * (fewer violation seconds, then fewer instance-seconds) is the baseline. sluice runs as the live
 * scaling loop runs it: only its own read-rate cap is applied (the control plane has no PID
 * estimator; under the simulated one a query-wide cap split per instance starves hot partitions
 * whatever the instance count, see BENCHMARKS.md).
 */
export function runBaseline(
  profile: Profile,
  policy: string,
  knob?: number,
  tickSeconds?: number,
): { summary: SimulationSummary; backpressure: boolean } {
  const tick = tickSeconds === undefined ? {} : { tickSeconds };
  // sluice as the live loop runs it: its own read-rate cap, no separate PID estimator.
  if (policy === 'sluice')
    return {
      summary: simulate(profile, benchPolicy(policy, profile, knob), {
        pid: 'policy',
        ...tick,
        ...simulationFor(policy),
      }).summary,
      backpressure: true,
    };
  const off = simulate(profile, benchPolicy(policy, profile, knob), {
    pid: false,
    ...tick,
    ...simulationFor(policy),
  }).summary;
  const on = simulate(profile, benchPolicy(policy, profile, knob), {
    pid: true,
    ...tick,
    ...simulationFor(policy),
  }).summary;
  const better =
    on.sloViolationSeconds < off.sloViolationSeconds ||
    (on.sloViolationSeconds === off.sloViolationSeconds && on.instanceSeconds < off.instanceSeconds);
  return better ? { summary: on, backpressure: true } : { summary: off, backpressure: false };
}

export function runOne(profile: Profile, policy: string, pid: boolean): SimulationSummary {
  return simulate(profile, benchPolicy(policy, profile), { pid, ...simulationFor(policy) }).summary;
}

export interface Matrix {
  profiles: Profile[];
  /** What the report scores: PID on, except spark-ratio at the better of backpressure off/on. */
  main: SimulationSummary[];
  /** Profiles where spark-ratio's better run had backpressure on. */
  sparkBackpressureOn: string[];
  withPid: SimulationSummary[];
  withoutPid: SimulationSummary[];
}

export function runMatrix(
  profiles: readonly Profile[],
  policies: readonly string[] = POLICY_NAMES,
  options: { withoutPid?: boolean } = {},
): Matrix {
  const withPid: SimulationSummary[] = [];
  const withoutPid: SimulationSummary[] = [];
  const main: SimulationSummary[] = [];
  const sparkBackpressureOn: string[] = [];
  for (const profile of profiles) {
    for (const policy of policies) {
      const on = runOne(profile, policy, true);
      withPid.push(on);
      const off =
        (options.withoutPid ?? true) || policy === 'spark-ratio' ? runOne(profile, policy, false) : undefined;
      if (off && (options.withoutPid ?? true)) withoutPid.push(off);
      if (policy === 'spark-ratio' && off) {
        const onBetter =
          on.sloViolationSeconds < off.sloViolationSeconds ||
          (on.sloViolationSeconds === off.sloViolationSeconds && on.instanceSeconds < off.instanceSeconds);
        main.push(onBetter ? on : off);
        if (onBetter) sparkBackpressureOn.push(profile.name);
      } else {
        main.push(on);
      }
    }
  }
  return { profiles: [...profiles], main, sparkBackpressureOn, withPid, withoutPid };
}

export interface BaselineComparison {
  baseline: string;
  violationRatio: number | null;
  instanceRatio: number;
  met: boolean;
}

export interface ProfileVerdict {
  profile: string;
  comparisons: BaselineComparison[];
  met: boolean;
}

export interface TargetReport {
  profiles: ProfileVerdict[];
  profilesMet: number;
  beatsBaselines: boolean;
  actionsToConverge: number | null;
  convergeMet: boolean;
  oscillations: number;
  lostRecords: number;
  maxBatchOverTrigger: number;
  pidMet: boolean;
}

const VIOLATION_TARGETS: Record<string, number> = { 'spark-ratio': 0.5, ds2: 0.8 };
const INSTANCE_BUDGET = 1.05;

/** The earlier single-seed targets, on the runs the report scores (`main`). */
export function checkTargets(matrix: Matrix): TargetReport {
  const find = (profile: string, policy: string) =>
    matrix.main.find((r) => r.profile === profile && r.policy === policy);
  const verdicts: ProfileVerdict[] = [];
  for (const profile of matrix.profiles) {
    const sluice = find(profile.name, 'sluice');
    if (!sluice) continue;
    const comparisons = Object.entries(VIOLATION_TARGETS).flatMap(([baseline, factor]) => {
      const base = find(profile.name, baseline);
      if (!base) return [];
      const violationRatio =
        base.sloViolationSeconds > 0 ? sluice.sloViolationSeconds / base.sloViolationSeconds : null;
      const instanceRatio = sluice.instanceSeconds / base.instanceSeconds;
      const met =
        sluice.sloViolationSeconds <= factor * base.sloViolationSeconds && instanceRatio <= INSTANCE_BUDGET;
      return [{ baseline, violationRatio, instanceRatio, met }];
    });
    verdicts.push({
      profile: profile.name,
      comparisons,
      met: comparisons.length > 0 && comparisons.every((c) => c.met),
    });
  }
  const sluiceRuns = matrix.main.filter((r) => r.policy === 'sluice');
  const step = sluiceRuns.find((r) => r.profile === 'step');
  const all = [...matrix.withPid, ...matrix.withoutPid];
  const maxBatchOverTrigger = Math.max(
    ...matrix.withPid.map(
      (r) =>
        r.maxBatchDurationSeconds / (matrix.profiles.find((p) => p.name === r.profile)?.triggerSeconds ?? 1),
    ),
  );
  const profilesMet = verdicts.filter((v) => v.met).length;
  return {
    profiles: verdicts,
    profilesMet,
    beatsBaselines: profilesMet >= 3,
    actionsToConverge: step?.actionsToConverge ?? null,
    convergeMet:
      step?.actionsToConverge !== null &&
      step?.actionsToConverge !== undefined &&
      step.actionsToConverge <= 2,
    oscillations: sluiceRuns.reduce((n, r) => n + r.oscillations, 0),
    lostRecords: all.reduce((n, r) => n + Math.abs(r.lostRecords), 0),
    maxBatchOverTrigger,
    pidMet: maxBatchOverTrigger <= 2,
  };
}
