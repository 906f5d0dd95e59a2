// Shapes of the control plane's answers the query page reads (the OpenAPI document has them all).
export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface Instance {
  name: string;
  status: string;
  runtime: string;
  ref: string | null;
  restarts: number;
  exitCode: number | null;
  startedAt: string;
  lastSeenAt: string | null;
}

export interface Progress {
  timestamp: string;
  batchId: number;
  batchDuration?: number;
  numInputRows: number;
  inputRowsPerSecond?: number;
  processedRowsPerSecond?: number;
  durationMs?: Record<string, number>;
  sluice?: { instance?: string; instances?: number; rateLimit?: number | null; queryVersion?: number };
}

export interface QueryDetailData {
  id: string;
  name: string;
  phase: string;
  desired: { state: string; version: number; instances: number; rateLimit: number | null };
  generation: number;
  observedGeneration: number;
  lastProgressAt: string | null;
  observed: {
    phase: string;
    runningInstances: number;
    lastGoodVersion: number | null;
    previousGoodVersion: number | null;
  };
  conditions: Condition[];
  instances: Instance[];
  lastProgress: Progress | null;
}

export interface Step {
  name: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  startedAt?: string;
  finishedAt?: string;
  message?: string;
}

export interface Operation {
  id: string;
  type: string;
  state: string;
  progress: number;
  steps: Step[];
  params: Record<string, unknown>;
  error: string | null;
  requestedBy: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Version {
  version: number;
  planHash: string;
  createdAt: string;
  createdBy: string | null;
  specText: string;
}

export interface Change {
  kind: string;
  severity: 'allowed' | 'caveat' | 'incompatible';
  operator?: string;
  path?: string;
  before?: string;
  after?: string;
  message: string;
}

export interface CompatibilityReport {
  against: number;
  compatible: boolean;
  changes: Change[];
}

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

export interface Lag {
  totalRecordsBehind: number;
  maxSecondsBehind: number | null;
  partitions: {
    topic: string;
    partition: number;
    recordsBehind: number;
    secondsBehind: number | null;
  }[];
}
