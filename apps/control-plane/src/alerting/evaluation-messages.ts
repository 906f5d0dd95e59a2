// What the evaluator's main thread and its worker thread (alert-evaluation.worker.ts) exchange.
// Plain data only (structured clone); the lag readings travel packed in typed arrays whose
// buffers are transferred, not copied: at 1,000 queries × 16 partitions they are 16,000 readings
// per tick, and cloning that many objects would itself hold the API's event loop.
import type { AlertWrites } from './alert-writes';
import type { RuleColumns } from './rule-row';

/** The columns of AlertRule the evaluation uses: a definition's, plus which rule and queries. */
export interface RuleInput extends RuleColumns {
  id: string;
  queries: string[];
}

export interface QueryInput {
  id: string;
  name: string;
  phase: string;
  desiredState: string;
  lastProgressAtMs: number | null;
  conditions: unknown;
  crashTimes: unknown;
}

export interface AlertInput {
  id: string;
  ruleId: string;
  queryId: string;
  queryName: string;
  state: string;
  activeAtMs: number | null;
  firedAtMs: number | null;
  resolvedAtMs: number | null;
  value: number | null;
  figures: unknown;
}

/**
 * Lag readings of the queries that have one. Query i's partitions are rows start[i] ..
 * start[i + 1] - 1 of `rows`, PACKED_FIELDS numbers a row: topic (index into `topics`),
 * partition, committedOffset (NaN = none yet), endOffset, recordsBehind, secondsBehind (NaN =
 * no estimate).
 */
export interface PackedLags {
  queryIds: string[];
  readAtMs: Float64Array;
  start: Int32Array;
  rows: Float64Array;
  topics: string[];
}
export const PACKED_FIELDS = 6;

/** Last progress (epoch ms) of the queries whose stamp moved: `atMs[i]` is `ids[i]`'s. */
export interface PackedProgress {
  ids: string[];
  atMs: Float64Array;
}

export interface StoredHistory {
  queryId: string;
  state: unknown;
}

/**
 * What changed in one of the tables the thread keeps a copy of since the evaluation it last took
 * (alert-mirror.ts, query-mirror.ts): a tick sends only the rows that moved, not every row.
 */
export interface RowDelta<T> {
  /** Rows new or changed (replace the copy's row of the same id). */
  upserts: T[];
  /** Ids of rows gone (or out of this cluster's scope). */
  removed: string[];
}

export interface EvaluationInput {
  nowMs: number;
  /**
   * The time alerts' lifecycle is measured in (`for`, activeAt, firedAt, resolvedAt): the
   * evaluation's slot (evaluation-slots.ts); `nowMs` when absent. Rules judge at `nowMs`.
   */
  lifecycleMs?: number;
  /**
   * The thread drops its copies (rules, queries, alerts, lag readings, the gauges it reported) and
   * takes this input as the whole state: the first evaluation of a thread or of a leadership.
   */
  full: boolean;
  /** The rules, when they changed since the last evaluation (or on a full one). */
  rules?: RuleInput[];
  /** The evaluating cluster's live queries. */
  queries: RowDelta<QueryInput>;
  alerts: RowDelta<AlertInput>;
  /** Lag readings newer than the ones the thread holds (lag-mirror.ts). */
  lags: PackedLags;
  /** Queries whose reading the thread must drop (no reading any more: their lag is unknown). */
  lagsGone: string[];
  /**
   * Last progress of the queries whose stamp moved (progress-mirror.ts), applied after
   * `queries.upserts`. Absent: none moved.
   */
  progress?: PackedProgress;
  /** SLUICE_DASHBOARD_URL without its trailing slash (the annotations link to the query). */
  dashboardUrl: string;
  /**
   * The stored histories, on the first evaluation of a leadership (or of a new worker), as JSON
   * arrays of StoredHistory (parsed in the thread, not on the API's event loop).
   */
  stored?: string[];
  /**
   * Return at most this many of the histories observed since their last save, the longest unsaved
   * first (0: none). The evaluator asks for a share of the queries every tick, so saving costs the
   * same small amount each tick instead of every history at once every minute.
   */
  saveHistories: number;
  /**
   * Collect the thread's garbage this many ms after answering, unless another evaluation comes
   * first (idle-collection.ts); absent or 0: V8 decides when, i.e. inside evaluations.
   */
  collectAfterMs?: number;
}

export interface QueryGauges {
  queryId: string;
  /** Abnormal exits in the last 10 minutes. */
  recentCrashes: number;
  /**
   * Burrow's status per partition over the default window, `topic/partition=STATUS;` each (Kafka
   * topic names cannot contain `/`, `=` or `;`), or null when the query has no commit windows.
   */
  consumerStatus: string | null;
}

export interface EvaluationOutput {
  evaluations: number;
  transitions: number;
  writes: AlertWrites;
  /** Every alert that is not inactive after this pass, as state, rule name, query name triples. */
  alertsAfter: string[];
  /** The queries whose gauges' values changed since the last output (every query on a full one). */
  gauges: QueryGauges[];
  /**
   * When `saveHistories` asked for some: histories observed since their last save, as JSON arrays
   * of StoredHistory of at most HISTORY_CHUNK each (serialised in the thread, saved as they are).
   */
  histories?: string[];
  /** Where the computation spent its time (ms): snapshots, rules, gauges. */
  phasesMs: Record<string, number>;
}

/** Histories per saved JSON array (one statement each). */
export const HISTORY_CHUNK = 200;

/** `owner`: the evaluator (one per control plane; tests run several in one process). */
export type MainToWorker =
  | { type: 'evaluate'; seq: number; owner: string; input: EvaluationInput }
  /** Drop the owner's histories (a follower, or a closing evaluator). */
  | { type: 'forget'; seq: number; owner: string };

export type WorkerToMain =
  | { type: 'evaluated'; seq: number; output: EvaluationOutput }
  | { type: 'forgotten'; seq: number }
  | { type: 'failed'; seq: number; message: string };
