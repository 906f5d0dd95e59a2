export const OPERATION_TYPES = ['deploy', 'scale', 'rate-limit', 'stop', 'start', 'delete'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export interface OperationStep {
  name: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  startedAt?: string;
  finishedAt?: string;
  message?: string;
}

/** The steps each operation type walks through, shown to users as progress. */
export const STEPS: Record<OperationType, string[]> = {
  deploy: ['record desired version', 'drain old instances', 'start instances', 'wait until running'],
  scale: ['record desired instances', 'reconcile instances', 'wait until running'],
  'rate-limit': ['record rate limit', 'send setRateLimit command'],
  stop: ['record stop', 'drain instances', 'wait until stopped'],
  start: ['record start', 'start instances', 'wait until running'],
  delete: ['drain instances', 'wait until stopped', 'delete query'],
};

export const OPERATIONS_QUEUE = 'operations';
