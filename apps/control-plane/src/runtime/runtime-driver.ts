// One interface for where engine instances run: local processes (demo, tests) or Kubernetes.
// Drivers are idempotent by instance name: starting a name that runs is a no-op.
import type { CpuLimitReport } from './cpu-limit';

export interface InstanceLaunch {
  queryId: string;
  queryName: string;
  /** Deterministic `<query>-<ordinal>`. */
  instanceName: string;
  ordinal: number;
  version: number;
  specText: string;
  checkpointUri: string;
  brokers: string;
  /** Query-level maxOffsetsPerTrigger at launch (later changes travel as control commands). */
  rateLimit?: number | null;
  /**
   * The resolved sink connection of a PostgreSQL sink (SLUICE_SINK_POSTGRES_URL of the engine);
   * null for other sinks. Never the control plane's own database.
   */
  sinkPostgresUrl?: string | null;
  /**
   * Connection name → URL of the connections a stream–static join's `tables:` read through
   * (SLUICE_TABLE_POSTGRES_URLS of the engine); resolved as the sink's, never the control plane's.
   */
  tablePostgresUrls?: Record<string, string>;
  /** Checkpoint lineage the instance runs on (0 when absent; see checkpoint-lineage.ts). */
  checkpointEpoch?: number;
  /** The query's CPU limit per instance in cores (null/absent = unlimited); see cpu-limit.ts. */
  cpuLimit?: number | null;
  /** A fresh checkpoint's first offsets instead of the spec's startingOffsets. */
  startingOffsets?: 'earliest' | 'latest' | null;
  /** A fresh checkpoint continuing where the checkpoint of `epoch` (at `checkpointUri`) committed. */
  continueFrom?: { epoch: number; checkpointUri: string } | null;
}

/**
 * The engine flags that pick the checkpoint lineage (`engine run --help`). `continueFromUri`
 * replaces the launch's own location of the old checkpoint (pods reach every checkpoint through
 * one database; the engine then reads it from its --checkpoint URI).
 */
export function checkpointLineageArgs(l: InstanceLaunch, continueFromUri?: string | null): string[] {
  const epoch = l.checkpointEpoch ?? 0;
  const from = l.continueFrom;
  const uri = continueFromUri === undefined ? from?.checkpointUri : continueFromUri;
  return [
    ...(epoch > 0 ? ['--checkpoint-epoch', String(epoch)] : []),
    ...(l.startingOffsets ? ['--starting-offsets', l.startingOffsets] : []),
    ...(from ? ['--continue-from-epoch', String(from.epoch), ...(uri ? ['--continue-from', uri] : [])] : []),
  ];
}

export interface RuntimeInstance {
  name: string;
  ref: string;
  version: number;
  /** Checkpoint lineage it runs on, when the driver knows (0 for instances started before lineages). */
  checkpointEpoch?: number;
  state: 'running' | 'exited';
  /** Exit code when known; null for a process we could only watch by pid. */
  exitCode: number | null;
  /** True when the exit followed a drain request (a clean stop, not a crash). */
  drained: boolean;
  exitedAt: Date | null;
  /**
   * Why an exited instance stopped, when it did not stop cleanly: the last error line of its
   * log (local) or its container's termination message (Kubernetes), bounded; null if unknown.
   */
  lastError?: string | null;
  /** The CPU limit as the driver applied it, or why not; absent when the driver has none. */
  cpuLimit?: CpuLimitReport | null;
}

export type StandbyState = 'preparing' | 'ready' | 'gone';

export interface RuntimeDriver {
  readonly kind: 'local' | 'kubernetes';
  start(launch: InstanceLaunch): Promise<RuntimeInstance>;
  /** Asks the instance to finish its batch, commit and exit (SIGTERM for processes). */
  drain(queryId: string, instanceName: string): Promise<void>;
  /** Hard stop (used when deleting a query whose instances ignore a drain). */
  kill(queryId: string, instanceName: string): Promise<void>;
  list(queryId: string): Promise<RuntimeInstance[]>;
  /** Forgets an exited instance. */
  forget(queryId: string, instanceName: string): Promise<void>;
  /**
   * Changes the CPU limit of a running instance without restarting it; drivers without per-query
   * limits leave it out (the reconciler then reports the limit as not applied).
   */
  setCpuLimit?(queryId: string, instanceName: string, cpus: number | null): Promise<void>;
  /**
   * Calls `listener` when an instance this driver started exits, so that a crash is acted on at
   * once instead of at the next resync. Drivers that cannot see exits leave it out (the resync
   * still finds them); adopted processes are found by the resync too.
   */
  onExit?(listener: (queryId: string, instanceName: string) => void): void;
  /**
   * Pre-starts `launch` beside the instance of that name that still runs (an upgrade): the engine
   * connects and prepares, then waits; `start` of the same launch once the old instance has
   * exited releases it instead of spawning. A launch on another checkpoint lineage (a new
   * checkpoint) also waits through the old instance's `forget`. Drivers without it start from
   * scratch.
   */
  prestart?(launch: InstanceLaunch): Promise<void>;
  /**
   * A pre-started instance: `ready` once prepared and waiting, `gone` when none waits (never
   * started, released, or exited: a standby whose checks failed exits at once).
   */
  standbyState?(queryId: string, instanceName: string): Promise<StandbyState>;
  /** Stops every pre-started instance of the query that was not released (an upgrade rolls back). */
  cancelPrestart?(queryId: string): Promise<void>;
  /** Removes everything the driver created for a deleted query whose instances have stopped. */
  remove(queryId: string, queryName: string): Promise<void>;
}

export const RUNTIME_DRIVER = Symbol('RUNTIME_DRIVER');
