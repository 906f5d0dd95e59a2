// The compiled query: a linear chain of operators
// (scan → staticJoin? → filter? → aggregate|dedupe? → project), or for a stream–stream join
// (scan, scan → streamJoin → filter? → project): the smallest extension that holds two inputs.
// Each operator's `hash` covers only its own definition, not its upstream, so a changed filter or
// projection leaves the hash of a stateful operator (and so its checkpointed state) untouched.
import type { ColumnType, OutputMode } from '../types';
import type { AggregateCall, Expr } from './expr';
import type { StaticJoinOperator, StreamJoinOperator } from './join-operators';

export const PLAN_VERSION = 1;

export interface OutputColumn {
  name: string;
  type: ColumnType;
}

/** Layout of a stateful operator's state, compared across upgrades. Types are Spark-ish names. */
export interface StateSchema {
  key: Array<{ name: string; type: string }>;
  value: Array<{ name: string; type: string }>;
}

export interface ScanOperator {
  id: 'scan';
  op: 'scan';
  hash: string;
  source: string;
  topic: string;
  format: 'json' | 'csv' | 'raw';
  schema: OutputColumn[];
  watermark?: { column: string; delayMs: number };
}

export interface FilterOperator {
  id: 'filter';
  op: 'filter';
  hash: string;
  condition: Expr;
}

export interface WindowSpec {
  column: string;
  sizeMs: number;
  slideMs: number;
}

/** `session_window(column, gap)`: gap-based sessions per key (plan/session-window.ts). */
export interface SessionWindowSpec {
  column: string;
  gapMs: number;
}

export interface AggregateOperator {
  id: 'aggregate';
  op: 'aggregate';
  hash: string;
  window?: WindowSpec;
  /** Exclusive with `window`: the groups are sessions, merged per key (runtime/sessions.ts). */
  session?: SessionWindowSpec;
  /** Grouping keys; `name` is the key of the value in a group's `values`. */
  keys: Array<{ name: string; expr: Expr }>;
  aggregates: AggregateCall[];
  /** Grouping key that is the watermarked event-time column itself (Spark evicts such groups too). */
  eventTimeKey?: string;
  stateSchema: StateSchema;
}

export interface DedupeOperator {
  id: 'dedupe';
  op: 'dedupe';
  hash: string;
  /** Evaluated on the filtered source row. */
  keys: Array<{ name: string; expr: Expr }>;
  /**
   * Present when the source has a watermark: as in Spark's dropDuplicates with a watermark, a
   * key's state may be evicted once the watermark passes the event time of the row that created it.
   */
  expiry?: { eventTimeColumn: string; delayMs: number };
  /**
   * dropDuplicatesWithinWatermark (Spark 3.5): the state of a key expires when the watermark
   * passes its first row's event time + the delay (stored with the key), whether or not the
   * event time is among the key columns. Needs `expiry`.
   */
  withinWatermark?: true;
  stateSchema: StateSchema;
}

export interface ProjectOperator {
  id: 'project';
  op: 'project';
  hash: string;
  columns: Array<{ name: string; expr: Expr }>;
}

/**
 * A user's stateful function after the projection (Spark's flatMapGroupsWithState): rows grouped
 * by `key` (output columns of the projection) → the function → rows of `output`.
 */
export interface StatefulFunctionOperator {
  id: 'stateful';
  op: 'stateful';
  hash: string;
  /** Relative to the spec's folder, normalised, inside it. */
  module: string;
  /** SHA-256 of an inline `stateful.source` (absent for a module read from a file). */
  sourceSha256?: string;
  export: string;
  key: string[];
  timeout: 'none' | 'eventTime' | 'processingTime';
  stateSchema: StateSchema;
}

export type PlanOperator =
  | ScanOperator
  | StaticJoinOperator
  | StreamJoinOperator
  | FilterOperator
  | AggregateOperator
  | DedupeOperator
  | ProjectOperator
  | StatefulFunctionOperator;
export type StatefulOperator = AggregateOperator | DedupeOperator | StatefulFunctionOperator;

export interface LogicalPlan {
  version: typeof PLAN_VERSION;
  kind: 'stateless' | 'aggregate' | 'dedupe' | 'join' | 'stateful';
  outputMode: OutputMode;
  numShufflePartitions: number;
  sourceTopics: string[];
  operators: PlanOperator[];
  output: OutputColumn[];
}

export function isStateful(op: PlanOperator): op is StatefulOperator {
  return op.op === 'aggregate' || op.op === 'dedupe' || op.op === 'stateful';
}
