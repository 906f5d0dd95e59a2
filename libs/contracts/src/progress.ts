// StreamingQueryProgress as Spark writes it, plus Sluice's `sluice` extension. The parser accepts
// real Spark 3.x/4.x JSON verbatim (unknown fields are kept) and names the JSON path on errors.
import { z } from 'zod';

const count = z.number().int().nonnegative();
const rate = z.number();
/** Source offsets: Kafka `{topic:{partition:offset}}`, a number (rate source), a string, or null. */
const offset = z.union([z.null(), z.number(), z.string(), z.record(z.string(), z.unknown())]);

const stateOperatorSchema = z.looseObject({
  operatorName: z.string(),
  numRowsTotal: count,
  numRowsUpdated: count,
  allUpdatesTimeMs: count.optional(),
  numRowsRemoved: count.optional(),
  allRemovalsTimeMs: count.optional(),
  commitTimeMs: count.optional(),
  memoryUsedBytes: count.optional(),
  numRowsDroppedByWatermark: count.optional(),
  numShufflePartitions: count.optional(),
  numStateStoreInstances: count.optional(),
  customMetrics: z.record(z.string(), z.number()).optional(),
});

const sourceSchema = z.looseObject({
  description: z.string(),
  startOffset: offset.optional(),
  endOffset: offset.optional(),
  latestOffset: offset.optional(),
  numInputRows: count,
  inputRowsPerSecond: rate.optional(),
  processedRowsPerSecond: rate.optional(),
  metrics: z.record(z.string(), z.string()).optional(),
});

const sinkSchema = z.looseObject({
  description: z.string(),
  // Spark writes -1 when the sink cannot count its output rows.
  numOutputRows: z.number().int().min(-1).optional(),
  metrics: z.record(z.string(), z.string()).optional(),
});

const sluiceSchema = z.looseObject({
  queryVersion: z.number().int().positive(),
  instance: z.string().min(1),
  instances: z.number().int().positive().optional(),
  rateLimit: z.number().int().positive().nullable(),
  invalidRows: count,
  /** Control command ids this instance has applied (acknowledgement). */
  ackedCommands: z.array(z.string()).optional(),
  /** Tasks (source or shuffle partitions) this instance processed in the batch. */
  tasks: z.array(z.string()).optional(),
  /**
   * Of `tasks`, how many committed a batch to the query's sink (a stateful plan's source tasks
   * commit to its repartition topic instead). Absent from engines before it was added.
   */
  sinkBatches: count.optional(),
  /**
   * Output rows the sink committed, and output rows sent to dead letters instead (refused by the
   * sink's row checks or by the sink itself; part of `invalidRows`). `sink.numOutputRows` counts
   * the rows staged for the sink, including those the sink refused. Absent from older engines.
   */
  writtenOutputRows: count.optional(),
  deadLetteredOutputRows: count.optional(),
  /** The checkpoint lineage the instance runs on (0 = the query's first checkpoint). */
  checkpointEpoch: z.number().int().nonnegative().optional(),
  /**
   * Reports with rows this engine process has published, this one included (1: its first). A new
   * process's first batches run cold (code not yet compiled, first fetches): 2–6× the warm cost
   * of their rows under a 0.1-CPU quota (BENCHMARKS.md, 2026-12-06), so the control plane's
   * capacity model leaves them out. Absent from older engines.
   */
  processRowBatches: count.optional(),
  /**
   * Wall time the instance spent between its previous trigger's execution and this trigger's start
   * on its own work (the previous progress report, the loop), the wait for the interval left out:
   * part of what a round costs that Spark's `triggerExecution` does not hold. Absent on the first
   * trigger and from older engines.
   */
  outsideTriggerMs: count.optional(),
  /**
   * The round since the previous trigger's execution ended, to this one's end (the wait
   * included): the process's CPU time over it (every thread: the Kafka client's fetching, the
   * reports, the batch) and its wall time. Under a CPU limit the CPU over the limit is how long the
   * round's work keeps the quota busy, which the wall-clock durations do not show. Absent on the
   * first trigger and from older engines.
   */
  roundCpuMs: count.optional(),
  roundWallMs: count.optional(),
  /** True while a `pauseSources` command holds the source stage. */
  sourcesPaused: z.boolean().optional(),
  /** Stateful plans: repartitioned rows the instance's shuffle tasks have not consumed yet. */
  shuffleBacklog: count.optional(),
  /**
   * A checkpoint lineage continuing an older one (a new-checkpoint upgrade with `continue`): the
   * older epoch and what the lineage's first start found in its shuffle backlog. `withoutOrigin`:
   * rows written by engines from before origins were recorded, counted by neither version.
   */
  continued: z
    .object({
      fromEpoch: z.number().int().nonnegative(),
      backlog: z.object({ rows: count, withoutOrigin: count, partlyAggregatedRecords: count }).optional(),
    })
    .optional(),
  /**
   * Why the trigger failed (bounded); absent when it succeeded. A failed trigger is retried from
   * its write-ahead log (5 in a row stop the engine); tasks it lists may have committed.
   */
  error: z.string().optional(),
  /**
   * With `error`: the failure is waited out (a database the engine cannot reach, or its sink at
   * start), not counted toward the 5 failed triggers in a row that stop it.
   */
  waitedOut: z.boolean().optional(),
  /**
   * The sink refuses (bounded): the PostgreSQL sink is unreachable, refuses the credentials or the
   * table, or the Kafka sink topic is missing. Present while the engine waits for its sink at start
   * or after a trigger that failed while the sink refused; absent once batches commit again.
   */
  sinkError: z.string().optional(),
  /**
   * Stream–static joins: each static table as cached — rows, when it was last read, and (bounded)
   * why the last refresh failed while an older copy is still joined with.
   */
  staticTables: z
    .array(
      z.object({
        table: z.string(),
        rows: count,
        loadedAt: z.string().nullable(),
        error: z.string().optional(),
      }),
    )
    .optional(),
});

const isoTimestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 timestamp');

export const streamingQueryProgressSchema = z.looseObject({
  id: z.string().min(1),
  runId: z.string().min(1),
  name: z.string().nullable().optional(),
  timestamp: isoTimestamp,
  batchId: count,
  batchDuration: count.optional(),
  numInputRows: count,
  inputRowsPerSecond: rate.optional(),
  processedRowsPerSecond: rate.optional(),
  durationMs: z.record(z.string(), z.number()).optional(),
  eventTime: z.record(z.string(), isoTimestamp).optional(),
  stateOperators: z.array(stateOperatorSchema).optional(),
  sources: z.array(sourceSchema),
  sink: sinkSchema.optional(),
  observedMetrics: z.record(z.string(), z.unknown()).nullable().optional(),
  sluice: sluiceSchema.optional(),
});

export type StreamingQueryProgress = z.infer<typeof streamingQueryProgressSchema>;
export type StateOperatorProgress = z.infer<typeof stateOperatorSchema>;
export type SourceProgress = z.infer<typeof sourceSchema>;
export type SinkProgress = z.infer<typeof sinkSchema>;
export type SluiceProgressExtension = z.infer<typeof sluiceSchema>;

/** Thrown for invalid progress; `path` is a JSONPath such as `$.sources[0].numInputRows`. */
export class ProgressParseError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'ProgressParseError';
  }
}

export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    '$',
  );
}

/** Validates one progress event (parsed JSON). Unknown fields are preserved. */
export function parseStreamingQueryProgress(input: unknown): StreamingQueryProgress {
  const result = streamingQueryProgressSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ProgressParseError('$', 'invalid progress event');
  throw new ProgressParseError(jsonPath(issue.path), issue.message);
}
