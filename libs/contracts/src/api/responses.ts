// The control plane's REST answers as its clients (the `sluice` CLI, the dashboard) read them: one
// definition for both. Types only, no code. The control plane's zod response schemas
// (apps/control-plane/src/**/*.dto.ts, published as /api/docs/openapi.json) are the source of
// truth; these list the fields the clients use, and the API sends more (its objects are loose).

export type OperationState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface OperationStep {
  name: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  startedAt?: string;
  finishedAt?: string;
  message?: string;
}

/** A long change (deploy, scale, upgrade, ...) run in the background: GET /api/v1/operations/:id. */
export interface Operation {
  id: string;
  queryId: string | null;
  type: string;
  state: OperationState;
  progress: number;
  steps: OperationStep[];
  params: Record<string, unknown>;
  error: string | null;
  requestedBy: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface QuerySummary {
  id: string;
  name: string;
  phase: string;
  desired: { state: string; version: number; instances: number; rateLimit: number | null };
  generation: number;
  observedGeneration: number;
  lastProgressAt: string | null;
  createdAt: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface QueryInstance {
  name: string;
  status: string;
  runtime: string;
  ref: string | null;
  restarts: number;
  exitCode: number | null;
  startedAt: string;
  lastSeenAt: string | null;
}

/** One micro-batch's progress (Spark's StreamingQueryProgress plus `sluice`). */
export interface ProgressEvent {
  timestamp: string;
  batchId: number;
  batchDuration?: number;
  numInputRows: number;
  inputRowsPerSecond?: number;
  processedRowsPerSecond?: number;
  durationMs?: Record<string, number>;
  sluice?: { instance?: string; instances?: number; rateLimit?: number | null; queryVersion?: number };
}

/** GET /api/v1/queries/:id */
export interface QueryDetail extends QuerySummary {
  observed: {
    phase: string;
    runningInstances: number;
    lastGoodVersion: number | null;
    /** The good version before the last good one: a rollback's target right after an upgrade. */
    previousGoodVersion: number | null;
  };
  conditions: Condition[];
  instances: QueryInstance[];
  lastProgress: ProgressEvent | null;
}

/** GET /api/v1/queries/:id/versions (one element). */
export interface QueryVersion {
  version: number;
  planHash: string;
  createdAt: string;
  createdBy: string | null;
  specText: string;
}

export interface UpgradeChange {
  kind: string;
  severity: 'allowed' | 'caveat' | 'incompatible';
  operator?: string;
  path?: string;
  before?: string;
  after?: string;
  message: string;
}

/** May a version resume from the checkpoint of `against`? */
export interface CompatibilityReport {
  against: number;
  compatible: boolean;
  changes: UpgradeChange[];
}

/** GET /api/v1/queries/:id/scaling-events (one element). */
export interface ScalingEvent {
  id: string;
  at: string;
  policy: string;
  mode: string;
  direction: string;
  fromInstances: number;
  toInstances: number;
  rateLimit: number | null;
  reason: string;
  inputs: unknown;
  acted: boolean;
}

/** GET /api/v1/queries/:id/lag */
export interface QueryLag {
  totalRecordsBehind: number;
  maxSecondsBehind: number | null;
  partitions: Array<{
    topic: string;
    partition: number;
    committedOffset: number | null;
    endOffset: number;
    recordsBehind: number;
    secondsBehind: number | null;
  }>;
}

/** One item of GET /api/v1/live/queries: a query's newest figures. */
export interface QueryLiveFigures {
  id: string;
  runningInstances: number;
  inputRowsPerSecond: number | null;
  processedRowsPerSecond: number | null;
  progressAt: string | null;
  lagRecords: number | null;
  lagSeconds: number | null;
  /** When the control plane read the lag (every 5 s). */
  lagReadAt: string | null;
  firingAlerts: number;
}

/** GET /api/v1/live/queries: a page; `next` is the `after` of the next page, null on the last. */
export interface QueryLiveFiguresPage {
  items: QueryLiveFigures[];
  next: string | null;
}
