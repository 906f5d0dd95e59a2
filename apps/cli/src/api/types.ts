// The API objects the CLI reads, with only the fields it uses (OpenAPI: /api/docs/openapi.json).
// `-o json|yaml` prints the objects as received, so fields not listed here still reach scripts.

export interface OperationStep {
  name: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  message?: string;
}

export interface Operation {
  id: string;
  queryId: string | null;
  type: string;
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  progress: number;
  steps: OperationStep[];
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
  status: string;
  reason: string;
  message: string;
}

export interface QueryDetail extends QuerySummary {
  observed: { phase: string; runningInstances: number; lastGoodVersion: number | null };
  conditions: Condition[];
  instances: Array<{ name: string; status: string; restarts: number; startedAt: string }>;
  lastProgress: ProgressEvent | null;
}

export interface ProgressEvent {
  batchId: number;
  timestamp: string;
  numInputRows: number;
  inputRowsPerSecond?: number;
  processedRowsPerSecond?: number;
  durationMs?: Record<string, number>;
  sluice?: { instance?: string; queryVersion?: number };
}

export interface UpgradeChange {
  kind: string;
  severity: 'allowed' | 'caveat' | 'incompatible';
  path?: string;
  before?: string;
  after?: string;
  message: string;
}

export interface CompatibilityReport {
  against: number;
  compatible: boolean;
  changes: UpgradeChange[];
}

export const TERMINAL_STATES: ReadonlySet<Operation['state']> = new Set(['SUCCEEDED', 'FAILED']);
