// Policies by name, each call a fresh instance (policies keep per-query state).
import type { ScalingPolicy } from '../types';
import { Ds2Policy, type Ds2Options } from './ds2';
import { KedaLagPolicy, type KedaLagOptions } from './keda-lag';
import { SluicePolicy, type SluiceOptions } from './sluice';
import { SparkRatioPolicy, type SparkRatioOptions } from './spark-ratio';

export const POLICY_NAMES = ['spark-ratio', 'ds2', 'keda-lag', 'sluice'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** Per-policy settings; anything omitted takes the policy's documented default. */
export interface PolicySettings {
  'spark-ratio'?: SparkRatioOptions;
  ds2?: Ds2Options;
  'keda-lag'?: Partial<KedaLagOptions>;
  sluice?: SluiceOptions;
}

/** KEDA's Kafka scaler default lagThreshold. */
const KEDA_DEFAULT_LAG_THRESHOLD = 10;

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

export function policyByName(name: string, settings: PolicySettings = {}): ScalingPolicy {
  if (!isPolicyName(name))
    throw new Error(`unknown scaling policy "${name}" (known: ${POLICY_NAMES.join(', ')})`);
  switch (name) {
    case 'spark-ratio':
      return new SparkRatioPolicy(settings['spark-ratio']);
    case 'ds2':
      return new Ds2Policy(settings.ds2);
    case 'keda-lag':
      return new KedaLagPolicy({ lagThreshold: KEDA_DEFAULT_LAG_THRESHOLD, ...settings['keda-lag'] });
    case 'sluice':
      return new SluicePolicy(settings.sluice);
  }
}
