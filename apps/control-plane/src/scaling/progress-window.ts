// Turns stored progress rows and lag polls into the shapes @sluice/scaling policies read.
import { aggregateProgress, type InstanceBatch, type LagSample, type ProgressSample } from '@sluice/scaling';
import type { PartitionLag } from '../lag/lag.service';

export interface StoredBatch {
  timestamp: Date;
  instance: string | null;
  runId: string;
  numInputRows: bigint | number;
  batchDurationMs: number | null;
  payload: unknown;
}

/** Spark's batch duration: the column when the ingest found one, else from the payload. */
function durationOf(row: StoredBatch): number {
  if (row.batchDurationMs !== null) return row.batchDurationMs;
  const p = row.payload as { batchDuration?: unknown; durationMs?: { triggerExecution?: unknown } } | null;
  const d = p?.batchDuration ?? p?.durationMs?.triggerExecution;
  return typeof d === 'number' && Number.isFinite(d) ? d : 0;
}

/** The engine's work outside its trigger executions, when its progress reports it. */
function outsideOf(row: StoredBatch): number | undefined {
  const p = row.payload as { sluice?: { outsideTriggerMs?: unknown } } | null;
  const ms = p?.sluice?.outsideTriggerMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** The round's CPU and wall time (ms), when the engine reports both. */
function roundOf(row: StoredBatch): { roundCpuMs: number; roundWallMs: number } | undefined {
  const p = row.payload as { sluice?: { roundCpuMs?: unknown; roundWallMs?: unknown } } | null;
  const cpu = p?.sluice?.roundCpuMs;
  const wall = p?.sluice?.roundWallMs;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  return ok(cpu) && ok(wall) ? { roundCpuMs: cpu, roundWallMs: wall } : undefined;
}

/** How many reports with rows the batch's engine process had published, this one included. */
function processRowBatchesOf(row: StoredBatch): number | undefined {
  const p = row.payload as { sluice?: { processRowBatches?: unknown } } | null;
  const n = p?.sluice?.processRowBatches;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
}

/**
 * One aggregated sample per trigger interval, all instances' batches folded together.
 * `cpuLimitCores`: the query's per-instance CPU limit, if any (see aggregateProgress).
 */
export function progressSamples(
  rows: readonly StoredBatch[],
  triggerMs: number,
  cpuLimitCores?: number | null,
): ProgressSample[] {
  const batches: InstanceBatch[] = rows.map((r) => ({
    startMs: r.timestamp.getTime(),
    // Engines tag their progress with the instance name; a run id tells instances apart otherwise.
    instance: r.instance ?? r.runId,
    numInputRows: Number(r.numInputRows),
    batchDurationMs: durationOf(r),
    outsideMs: outsideOf(r),
    processRowBatches: processRowBatchesOf(r),
    ...roundOf(r),
  }));
  return aggregateProgress(batches, triggerMs > 0 ? triggerMs : 1000, cpuLimitCores ?? undefined);
}

/** Sums a lag poll over partitions into one sample (seconds = the partition furthest behind). */
export function lagSample(partitions: readonly PartitionLag[], timeMs: number): LagSample {
  return {
    timeMs,
    records: partitions.reduce((n, p) => n + p.recordsBehind, 0),
    seconds: partitions.reduce((s, p) => Math.max(s, p.secondsBehind ?? 0), 0),
    endOffsets: partitions.reduce((n, p) => n + p.endOffset, 0),
    // In a fixed partition order, so that successive polls' offsets line up partition by partition.
    partitionEndOffsets: [...partitions]
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
      .map((p) => p.endOffset),
  };
}

/** Partitions of the widest source topic: more instances than that would sit idle. */
export function partitionCount(partitions: readonly PartitionLag[]): number {
  const perTopic = new Map<string, number>();
  for (const p of partitions) perTopic.set(p.topic, (perTopic.get(p.topic) ?? 0) + 1);
  return Math.max(0, ...perTopic.values());
}
