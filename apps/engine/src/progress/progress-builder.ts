// Builds one Spark-shaped StreamingQueryProgress per trigger per instance, with Spark's
// serialisation rules (rates rounded HALF_UP to one decimal and omitted when undefined, sorted
// maps, empty maps omitted) plus the `sluice` extension.
import {
  sortedMap,
  sparkRate,
  sparkTimestamp,
  withoutUndefined,
  type StreamingQueryProgress,
} from '@sluice/contracts';

export interface SourceTrigger {
  topic: string;
  /** As Spark's `sources[].description`; KafkaV2[Subscribe[topic]] when absent. */
  description?: string;
  /** partition → offset, for the partitions this instance read in the trigger. */
  start: Record<string, number>;
  end: Record<string, number>;
  latest: Record<string, number>;
  numInputRows: number;
}

export interface StateTrigger {
  numRowsTotal: number;
  numRowsUpdated: number;
  numRowsRemoved: number;
  allUpdatesTimeMs: number;
  allRemovalsTimeMs: number;
  commitTimeMs: number;
  memoryUsedBytes: number;
  numRowsDroppedByWatermark: number;
  numShufflePartitions: number;
  numStateStoreInstances: number;
}

export interface TriggerReport {
  queryId: string;
  runId: string;
  name: string;
  batchId: number;
  triggerStartMs: number;
  /** Start of the previous trigger (for inputRowsPerSecond), undefined on the first. */
  previousTriggerStartMs: number | undefined;
  durationMs: Record<string, number>;
  eventTimes: number[];
  watermarkMs: number | undefined;
  sources: SourceTrigger[];
  state: StateTrigger | undefined;
  operatorName: string;
  sinkDescription: string;
  numOutputRows: number;
  sluice: {
    queryVersion: number;
    instance: string;
    rateLimit: number | null;
    invalidRows: number;
    ackedCommands: string[];
    tasks: string[];
    /** Of `tasks`, those that committed a batch to the sink (task-batch.ts). */
    sinkBatches?: number;
    /** Output rows the sink committed, and those sent to dead letters instead. */
    writtenOutputRows?: number;
    deadLetteredOutputRows?: number;
    checkpointEpoch?: number;
    /** Reports with rows this engine process has published, this one included (contracts' progress.ts). */
    processRowBatches?: number;
    /** The engine's work between the previous trigger's execution and this trigger (query-runner.ts). */
    outsideTriggerMs?: number;
    /** CPU and wall time of the round since the previous trigger's execution ended (query-runner.ts). */
    roundCpuMs?: number;
    roundWallMs?: number;
    sourcesPaused?: boolean;
    shuffleBacklog?: number;
    /**
     * A lineage continuing an older one: its epoch and what its first start found in the old
     * shuffle backlog (rows without an origin are counted by neither version).
     */
    continued?: {
      fromEpoch: number;
      backlog?: { rows: number; withoutOrigin: number; partlyAggregatedRecords: number };
    };
    error?: string;
    /** With `error`: a database unreachable, waited out by the engine rather than counted. */
    waitedOut?: boolean;
    sinkError?: string;
    /** The tables of stream–static joins as cached (source/static-table.ts). */
    staticTables?: Array<{ table: string; rows: number; loadedAt: string | null; error?: string }>;
  };
}

function offsetsBehind(s: SourceTrigger): Record<string, string> | undefined {
  const behind = Object.keys(s.end).map((p) => (s.latest[p] ?? s.end[p]!) - s.end[p]!);
  if (behind.length === 0) return undefined;
  const avg = behind.reduce((a, b) => a + b, 0) / behind.length;
  // Spark's Kafka source reports these as strings of Scala Double/Long values.
  return {
    avgOffsetsBehindLatest: Number.isInteger(avg) ? avg.toFixed(1) : String(avg),
    maxOffsetsBehindLatest: String(Math.max(...behind)),
    minOffsetsBehindLatest: String(Math.min(...behind)),
  };
}

export function buildProgress(r: TriggerReport): StreamingQueryProgress {
  const triggerMs = r.durationMs.triggerExecution ?? 0;
  const inputSeconds =
    r.previousTriggerStartMs === undefined ? 0 : (r.triggerStartMs - r.previousTriggerStartMs) / 1000;
  const rates = (rows: number) => ({
    // Spark: NaN (omitted) when no time has elapsed; 0 rows over time is 0.0.
    inputRowsPerSecond: sparkRate(inputSeconds > 0 ? rows / inputSeconds : Number.NaN),
    processedRowsPerSecond: sparkRate(triggerMs > 0 ? rows / (triggerMs / 1000) : Number.NaN),
  });
  const numInputRows = r.sources.reduce((n, s) => n + s.numInputRows, 0);
  const eventTime: Record<string, string> = {};
  if (r.eventTimes.length > 0) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const t of r.eventTimes) {
      min = Math.min(min, t);
      max = Math.max(max, t);
      sum += t;
    }
    Object.assign(eventTime, {
      min: sparkTimestamp(min),
      max: sparkTimestamp(max),
      avg: sparkTimestamp(Math.round(sum / r.eventTimes.length)),
    });
  }
  if (r.watermarkMs !== undefined) eventTime.watermark = sparkTimestamp(r.watermarkMs);
  const stateOperators = r.state ? [{ operatorName: r.operatorName, ...r.state }] : [];
  return withoutUndefined({
    id: r.queryId,
    runId: r.runId,
    name: r.name,
    timestamp: sparkTimestamp(r.triggerStartMs),
    batchId: r.batchId,
    batchDuration: triggerMs,
    numInputRows,
    ...rates(numInputRows),
    durationMs: sortedMap(r.durationMs),
    eventTime: sortedMap(eventTime),
    stateOperators,
    sources: r.sources.map((s) =>
      withoutUndefined({
        description: s.description ?? `KafkaV2[Subscribe[${s.topic}]]`,
        startOffset: { [s.topic]: s.start },
        endOffset: { [s.topic]: s.end },
        latestOffset: { [s.topic]: s.latest },
        numInputRows: s.numInputRows,
        ...rates(s.numInputRows),
        metrics: offsetsBehind(s),
      }),
    ),
    sink: { description: r.sinkDescription, numOutputRows: r.numOutputRows },
    sluice: { ...r.sluice },
  }) as StreamingQueryProgress;
}
