// @sluice/scaling: backpressure and dynamic-allocation policies plus a deterministic simulator.
// Pure TypeScript without I/O, shared by the control plane's live loop and the benchmarks.
export * from './types';
export { PidRateEstimator, type PidRateEstimatorOptions } from './pid-rate-estimator';
export { CapacityModel, COLD_BATCHES, sustainableRate, type CapacityEstimate } from './capacity-model';
export { RestartCost } from './restart-cost';
export { instanceReadShare, type ReadShareInput } from './read-share';
export {
  BATCH_TIME_BUDGET_MS,
  INITIAL_BATCH_RECORDS,
  MIN_BATCH_RECORDS,
  ThroughputMeter,
  batchTimeBudgetMs,
  recordsPerTask,
  shareBatchBound,
  type BoundInput,
} from './batch-bound';
export { aggregateProgress, roundCost, type InstanceBatch } from './aggregate-progress';
export { demandOutlook, peakDemand, type DemandOutlook } from './demand-outlook';
export { alignedInstanceCounts, busiestShare, effectiveInstances, isAligned } from './partition-alignment';
export { worstBusiestShare } from './partition-load';
export {
  lagAt,
  linearFit,
  produceRate,
  produceRateSeries,
  rowsBetween,
  slope,
  trueProcessingRate,
} from './window-stats';
export {
  SparkRatioPolicy,
  sparkKillTarget,
  sparkRequestTotal,
  type SparkRatioOptions,
} from './policies/spark-ratio';
export { Ds2Policy, alignToPartitions, type Ds2Options } from './policies/ds2';
export { KedaLagPolicy, type KedaLagOptions } from './policies/keda-lag';
export { SLUICE_TARGET_UTILIZATION, SluicePolicy, type SluiceOptions } from './policies/sluice';
export {
  POLICY_NAMES,
  isPolicyName,
  policyByName,
  type PolicyName,
  type PolicySettings,
} from './policies/registry';
export { assertValidLimits, clampInstances, upperBound } from './policies/limits';
export { parsePolicySettings, type ParsedPolicySettings } from './policies/parse-settings';
export {
  decideScaleAction,
  directionOf,
  offsetsPerTrigger,
  SCALE_GATE_DEFAULTS,
  SCALING_INTERVAL_DEFAULT_MS,
  scaleHoldMs,
  wantsToScale,
  type ScaleActionInput,
  type ScaleActionPlan,
  type ScaleDirection,
  type ScalingMode,
} from './scale-action';
export {
  nominalRateAt,
  parseProfile,
  stepTime,
  type HotPartitions,
  type InstanceSpec,
  type ModelSpec,
  type NoiseSpec,
  type Profile,
  type RatePoint,
} from './simulator/profile';
// The tests' base profile (the simulator's and the frontier's in bench/).
export { fixtureProfile, stepFixture } from './simulator/profile-fixture';
export {
  simulate,
  type SimulationOptions,
  type SimulationResult,
  type SimulationSummary,
  type TimelinePoint,
} from './simulator/simulate';
export type { BatchBoundUnits } from './simulator/engine-group';
export {
  countActionsToConverge,
  countOscillations,
  countReversals,
  REVERSAL_WINDOW_SECONDS,
  type ScaleAction,
} from './simulator/outcome';
export {
  kafkaOffsets,
  profileFromProgress,
  type RecordedProgress,
  type ReplayDefaults,
} from './simulator/replay-profile';
export { seededRandom, type Random } from './simulator/prng';
