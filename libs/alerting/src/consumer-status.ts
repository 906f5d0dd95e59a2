// A consumer group's status as Burrow computes it: every partition evaluated over its own
// window, the group taking the worst partition. Source: linkedin/Burrow
// core/internal/evaluator/caching.go (evaluateConsumerStatus).
import {
  partitionStatus,
  STATUS_SEVERITY,
  type PartitionEvaluation,
  type PartitionInput,
  type PartitionStatus,
  type WindowOptions,
} from './partition-status';

/** Burrow's group-level summary: STOP, STALL and REWIND all collapse to ERROR. */
export type GroupLevel = 'OK' | 'WARNING' | 'ERROR';

export interface ConsumerStatusInput {
  readonly partitions: readonly PartitionInput[];
  readonly nowMs: number;
}

export interface ConsumerStatus {
  /** The worst partition status (Burrow's severity order). */
  readonly status: PartitionStatus;
  /** Burrow's group status (worst partition, capped at ERROR). */
  readonly level: GroupLevel;
  /** True when every partition's window is full. */
  readonly complete: boolean;
  /** Burrow's group `complete`: the fraction of partitions whose window is full (0 without
   * partitions). */
  readonly completeness: number;
  readonly totalLag: number;
  /** The partition with the largest current lag (Burrow's `maxlag`), null without partitions. */
  readonly maxLag: PartitionEvaluation | null;
  readonly partitions: readonly PartitionEvaluation[];
}

export function consumerStatus(input: ConsumerStatusInput, options: WindowOptions = {}): ConsumerStatus {
  const partitions = input.partitions.map((p) => partitionStatus(p, input.nowMs, options));
  let status: PartitionStatus = 'OK';
  let maxLag: PartitionEvaluation | null = null;
  let totalLag = 0;
  let full = 0;
  for (const p of partitions) {
    if (STATUS_SEVERITY[p.status] > STATUS_SEVERITY[status]) status = p.status;
    if (maxLag === null || (p.currentLag ?? 0) > (maxLag.currentLag ?? 0)) maxLag = p;
    totalLag += p.currentLag ?? 0;
    if (p.complete === 1) full++;
  }
  return {
    status,
    level: groupLevel(status),
    complete: partitions.length > 0 && full === partitions.length,
    completeness: partitions.length > 0 ? full / partitions.length : 0,
    totalLag,
    maxLag,
    partitions,
  };
}

function groupLevel(status: PartitionStatus): GroupLevel {
  if (status === 'OK') return 'OK';
  if (status === 'WARNING') return 'WARNING';
  return 'ERROR';
}
