// @sluice/query-plan: the query spec compiler shared by the control plane and the engine, and the
// row-level runtime of compiled plans.
export type {
  ColumnType,
  OutputMode,
  QueryOptions,
  QuerySpec,
  Row,
  SinkSpec,
  FileSinkFormat,
  FileSourceSpec,
  SourceSpec,
  SpecError,
  StartingOffsets,
  StateStoreKind,
  TableSpec,
  TriggerSpec,
} from './types';
export { sourceStream } from './types';
export { compileSpec, type CompileResult } from './compile-spec';
export { formatErrors } from './format-errors';
export * as limits from './limits';
export { comparePlans } from './plan/compare-plans';
export { checkUpgrade, checkUpgradeText, type CheckUpgradeTextResult } from './upgrade/check-upgrade';
export { formatUpgradeReport } from './upgrade/format-report';
export { continueBlockers } from './upgrade/output-rules';
export type { ChangeSeverity, CompiledVersion, UpgradeChange, UpgradeReport } from './upgrade/upgrade-types';
export type { AggregateCall, AggregateFunction, Expr, ExprType } from './plan/expr';
export type {
  AggregateOperator,
  DedupeOperator,
  FilterOperator,
  LogicalPlan,
  OutputColumn,
  PlanOperator,
  ProjectOperator,
  ScanOperator,
  SessionWindowSpec,
  StateSchema,
  StatefulFunctionOperator,
  StatefulOperator,
  WindowSpec,
} from './plan/logical-plan';
export { parseDuration } from './spec/duration';
export { engineNodeFlags, engineNodeFlagsOfText, LMDB_ENGINE_NODE_FLAGS } from './spec/engine-node-flags';
export { DEFAULT_TRIGGER_INTERVAL_MS, sourceTopics, triggerIntervalMs } from './spec/stored-spec-fields';
export { querySpecSchema } from './spec/spec-schema';
export {
  DEFAULT_SINK_CONNECTION,
  ENGINE_SINK_SCHEMA,
  isReservedSinkSchema,
  RESERVED_SINK_SCHEMAS,
  SINK_CONNECTION_NAME,
  SINK_CONNECTION_NAME_HINT,
} from './spec/sink-names';
export { specErrorAt } from './spec/locate';
export { decodeRecord, type DecodeResult } from './runtime/decode-record';
export { instantiate, type GroupAssignment, type QueryExecutor } from './runtime/executor';
export { windowsFor, type TimeWindow } from './runtime/windows';
export { staticJoin, type StaticJoin, type StaticTableIndex } from './runtime/static-join';
export type { JoinType, StaticJoinOperator, StreamJoinOperator } from './plan/join-operators';
export { streamJoin, type JoinSideTag, type JoinStore, type StreamJoin } from './runtime/stream-join';
export {
  createGroupState,
  type GroupState,
  type GroupStateResult,
  type StatefulFunction,
} from './runtime/group-state';
export { normaliseModulePath, STATEFUL_MODULE_EXTENSIONS } from './plan/stateful-function';
export { compileModuleCode, type ModuleBundler, type ModuleCodeResult } from './plan/module-code';
export {
  addToSessions,
  fromStoredSessions,
  toStoredSessions,
  type Session,
  type StoredSessions,
} from './runtime/sessions';
