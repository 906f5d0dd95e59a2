// Runs policies over profiles in the simulator and checks the targets against the results.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  parseProfile,
  policyByName,
  POLICY_NAMES,
  simulate,
  type Profile,
  type ScalingPolicy,
  type SimulationSummary,
} from '@sluice/scaling';

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
 * A policy configured for a profile. Only KEDA needs a number the user must pick: its lag
 * threshold is set to one trigger interval of one instance's capacity (KEDA's own default of
 * 10 records would scale to the partition count on any traffic).
 */
export function benchPolicy(name: string, profile: Profile): ScalingPolicy {
  return policyByName(name, {
    'keda-lag': { lagThreshold: profile.instance.capacity * profile.triggerSeconds },
  });
}

export function runOne(profile: Profile, policy: string, pid: boolean): SimulationSummary {
  return simulate(profile, benchPolicy(policy, profile), { pid }).summary;
}

export interface Matrix {
  profiles: Profile[];
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
  for (const profile of profiles) {
    for (const policy of policies) {
      withPid.push(runOne(profile, policy, true));
      if (options.withoutPid ?? true) withoutPid.push(runOne(profile, policy, false));
    }
  }
  return { profiles: [...profiles], withPid, withoutPid };
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

/** The targets, evaluated on the PID-on runs (the default configuration). */
export function checkTargets(matrix: Matrix): TargetReport {
  const find = (profile: string, policy: string) =>
    matrix.withPid.find((r) => r.profile === profile && r.policy === policy);
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
  const sluiceRuns = matrix.withPid.filter((r) => r.policy === 'sluice');
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
