// A simulation summary for the bench's unit tests: zeros, with what a test is about given.
import type { SimulationSummary } from '@sluice/scaling';

export const summaryWith = (over: Partial<SimulationSummary>): SimulationSummary => ({
  policy: 'sluice',
  profile: 'step-short',
  sloViolationSeconds: 0,
  instanceSeconds: 0,
  scaleActions: 0,
  oscillations: 0,
  reversals: 0,
  actionsToConverge: null,
  maxLagSeconds: 0,
  maxBatchDurationSeconds: 0,
  lostRecords: 0,
  ...over,
});
