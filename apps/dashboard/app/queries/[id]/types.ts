// Shapes of the control plane's answers the query page reads: defined once, with the CLI's, in
// @sluice/contracts (api/responses.ts); the names this page uses.
export type {
  CompatibilityReport,
  Condition,
  Operation,
  QueryInstance as Instance,
  QueryDetail as QueryDetailData,
  QueryLag as Lag,
  ProgressEvent as Progress,
  QueryVersion as Version,
  ScalingEvent,
  OperationStep as Step,
  UpgradeChange as Change,
} from '@sluice/contracts';
