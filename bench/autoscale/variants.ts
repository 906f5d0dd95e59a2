// Profiles the sluice policy was not tuned on: the shipped ones with another seed, other partition
// counts and capacities, other trigger/objective/restart timings, and heavier noise. The targets
// are re-checked on each, to show the policy is general rather than fitted to four files.
import type { Profile } from '@sluice/scaling';
import { checkTargets, runMatrix, type TargetReport } from './run-matrix';

export const VARIANTS: { name: string; describe: string; apply: (p: Profile) => Profile }[] = [
  {
    name: 'seed',
    describe: 'other noise seed',
    apply: (p) => ({ ...p, noise: { ...p.noise, seed: p.noise.seed + 1000 } }),
  },
  {
    name: 'p24',
    describe: '24 partitions',
    apply: (p) => ({ ...p, partitions: 24, instance: { ...p.instance, maxInstances: 24 } }),
  },
  {
    name: 'p64-cap700',
    describe: '64 partitions, 700/s instances',
    apply: (p) => ({ ...p, partitions: 64, instance: { ...p.instance, capacity: 700, maxInstances: 64 } }),
  },
  {
    name: 'trigger5-slo30',
    describe: '5 s trigger, 30 s objective, 0.3 s overhead',
    apply: (p) => ({
      ...p,
      triggerSeconds: 5,
      slo: { maxLagSeconds: 30 },
      instance: { ...p.instance, batchOverheadSeconds: 0.3 },
    }),
  },
  {
    name: 'trigger30-slo180',
    describe: '30 s trigger, 180 s objective, 90 s start-up, 20 s rebalance',
    apply: (p) => ({
      ...p,
      triggerSeconds: 30,
      slo: { maxLagSeconds: 180 },
      instance: { ...p.instance, startupSeconds: 90, rebalancePauseSeconds: 20 },
    }),
  },
  {
    name: 'noisy',
    describe: 'capacity jitter 15 %, input noise 8 %, partition skew 30 %',
    apply: (p) => ({
      ...p,
      noise: { ...p.noise, capacityJitter: 0.15, inputJitter: 0.08, partitionSkew: 0.3 },
    }),
  },
];

export interface VariantResult {
  name: string;
  describe: string;
  report: TargetReport;
}

export function runVariants(profiles: readonly Profile[]): VariantResult[] {
  return VARIANTS.map((v) => {
    const matrix = runMatrix(
      profiles.map((p) => v.apply(p)),
      ['spark-ratio', 'ds2', 'sluice'],
      { withoutPid: false },
    );
    return { name: v.name, describe: v.describe, report: checkTargets(matrix) };
  });
}
