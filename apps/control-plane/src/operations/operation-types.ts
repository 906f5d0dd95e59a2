export const OPERATION_TYPES = [
  'deploy',
  'scale',
  'rate-limit',
  'stop',
  'start',
  'delete',
  'upgrade',
  'rollback',
] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export interface OperationStep {
  name: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  /** What the step measured or judged (an upgrade's health gate shows its figures here). */
  figures?: Record<string, unknown>;
}

/** The steps each operation type walks through, shown to users as progress. */
export const STEPS: Record<OperationType, string[]> = {
  deploy: ['record desired version', 'drain old instances', 'start instances', 'wait until running'],
  scale: ['record desired instances', 'reconcile instances', 'wait until running'],
  'rate-limit': ['record rate limit', 'send setRateLimit command', 'wait for acknowledgement'],
  stop: ['record stop', 'drain instances', 'wait until stopped'],
  start: ['record start', 'start instances', 'wait until running'],
  delete: ['drain instances', 'wait until stopped', 'delete query'],
  // Upgrades (ARCHITECTURE.md, "Upgrades"): a stateful query continuing on a new checkpoint also
  // pauses its sources first (UPGRADE_PAUSE_STEP); a failed gate appends UPGRADE_ROLLBACK_STEPS.
  upgrade: [
    'check compatibility',
    'drain old version',
    'start new version',
    'health gate',
    'mark last good version',
  ],
  rollback: ['drain current version', 'start rollback version', 'mark last good version'],
};

export const UPGRADE_PAUSE_STEP = 'pause sources and flush state';
export const UPGRADE_ROLLBACK_STEPS = ['roll back: drain new version', 'roll back: start last good version'];

export const OPERATIONS_QUEUE = 'operations';
