// Messages between the control plane's main thread and its progress-ingest worker thread.
import type { StreamingQueryProgress } from '@sluice/contracts';
import { clusterSlug } from '../leadership/cluster-name';

export const PROGRESS_GROUP = 'sluice-control-plane-progress';

/**
 * The ingest group of a cluster (leadership/cluster-name.ts). Its replicas share it, so each event is
 * stored once; other clusters must not: a shared group splits the partitions of `sluice.progress`
 * between their control planes, and each drops the events of queries it does not know.
 */
export function progressGroupId(cluster: string): string {
  return `${PROGRESS_GROUP}-${clusterSlug(cluster)}`;
}

export interface IngestWorkerConfig {
  brokers: string;
  databaseUrl: string;
  /** Kafka consumer group of this cluster's ingest (progressGroupId). */
  groupId?: string;
  /** The cluster (leadership/cluster-name.ts) whose queries' events this ingest stores. */
  cluster: string;
}

/** What one stored chunk changes in the metrics, per query (the worker does the per-event work). */
export interface QueryChunkSummary {
  queryId: string;
  /** Latest values in the chunk (gauges); undefined when no event of the chunk carried one. */
  inputRowsPerSecond?: number;
  processedRowsPerSecond?: number;
  stateRows?: number;
  /** null = no rate limit in force; undefined = not reported. */
  rateLimit?: number | null;
  /** Every batch duration of the chunk, seconds (histogram observations). */
  batchDurations: number[];
}

export type WorkerToMain =
  | {
      type: 'chunk';
      stored: number;
      unknownQuery: number;
      queries: QueryChunkSummary[];
      events: StreamingQueryProgress[];
    }
  | { type: 'invalid'; count: number; samples: string[] }
  | { type: 'log'; level: 'error' | 'warn'; message: string }
  | { type: 'stopped' };

export type MainToWorker =
  /** Query ids with live SSE subscribers: only their events are sent back in full. */
  { type: 'watch'; queryIds: string[] } | { type: 'stop' };
