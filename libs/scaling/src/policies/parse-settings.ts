// SLUICE_SCALING_POLICY_SETTINGS arrives as JSON text: every policy and option name is checked
// against the options the policies really have, and every value must be a finite number, so a typo
// is an error at start-up naming the path instead of an option silently ignored.
import type { Ds2Options } from './ds2';
import type { KedaLagOptions } from './keda-lag';
import type { PolicySettings } from './registry';
import type { SluiceOptions } from './sluice';
import type { SparkRatioOptions } from './spark-ratio';

type OptionNames<T> = Record<keyof Required<T>, true>;

const OPTIONS = {
  'spark-ratio': {
    scalingIntervalSeconds: true,
    scalingUpRatio: true,
    scalingDownRatio: true,
  } satisfies OptionNames<SparkRatioOptions>,
  ds2: {
    targetUtilization: true,
    utilizationBoundary: true,
    metricsWindowSeconds: true,
    stabilizationSeconds: true,
    catchUpSeconds: true,
    restartSeconds: true,
    backlogLagThresholdSeconds: true,
    scaleDownIntervalSeconds: true,
    maxScaleDownFactor: true,
    maxScaleUpFactor: true,
    evaluationIntervalSeconds: true,
    busyTimeAggregatorMax: true,
    observedTprLagThresholdSeconds: true,
    observedTprMinObservations: true,
    observedTprSwitchThreshold: true,
  } satisfies OptionNames<Ds2Options>,
  'keda-lag': {
    lagThreshold: true,
    tolerance: true,
    scaleDownStabilizationSeconds: true,
    scaleUpPercent: true,
    scaleUpPods: true,
    scaleUpPeriodSeconds: true,
  } satisfies OptionNames<KedaLagOptions>,
  sluice: {
    targetUtilization: true,
    scaleUpUtilization: true,
    lookaheadSeconds: true,
    peakWindowSeconds: true,
    downHoldSeconds: true,
    reversalGuardSeconds: true,
    reversalRateChange: true,
    startupSecondsPrior: true,
    rebalancePauseSecondsPrior: true,
    defaultSloSeconds: true,
    discountPauseBacklog: true,
    timeScale: true,
  } satisfies OptionNames<SluiceOptions>,
} satisfies Record<keyof Required<PolicySettings>, Record<string, true>>;

export type ParsedPolicySettings = { ok: true; settings: PolicySettings } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function parsePolicySettings(value: unknown): ParsedPolicySettings {
  if (!isObject(value)) return { ok: false, error: 'must be a JSON object keyed by policy name' };
  for (const [policy, options] of Object.entries(value)) {
    const known = (OPTIONS as Record<string, Record<string, true>>)[policy];
    if (!known)
      return { ok: false, error: `unknown policy "${policy}" (known: ${Object.keys(OPTIONS).join(', ')})` };
    if (!isObject(options)) return { ok: false, error: `${policy}: must be an object of options` };
    for (const [name, v] of Object.entries(options)) {
      if (!known[name])
        return {
          ok: false,
          error: `${policy}.${name}: unknown option (known: ${Object.keys(known).join(', ')})`,
        };
      if (typeof v !== 'number' || !Number.isFinite(v))
        return { ok: false, error: `${policy}.${name}: must be a finite number` };
    }
  }
  return { ok: true, settings: value as PolicySettings };
}
