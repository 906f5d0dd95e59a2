// One task's batch, the same in the engine and in the query test harness: write the planned
// range to the offset log (WAL, create-exclusive), read exactly that range, run the stage, make
// the output visible with the marker (task-committer), then write the commit log. Errors are
// the caller's to handle (the task is dropped and recovered from the checkpoint and its marker).
import type { Message } from 'kafkajs';
import type { OutputMode, QueryExecutor, SourceSpec, StaticTableIndex } from '@sluice/query-plan';
import type { CheckpointStore, OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { partialReplay, replays, type ReplaySet } from '../offsets/continue-offsets';
import type { SourceTrigger, StateTrigger } from '../progress/progress-builder';
import { toJsonRow, type OutputColumn } from '../sinks/format-row';
import { emptyOutput, type Sink } from '../sinks/sink';
import type { Source } from '../source/source';
import { deadLetterMessage, outputRowDeadLetter } from './dead-letter';
import type { TriggerTransaction } from './output-log';
import { maxRecordBytes } from './kafka-limits';
import type { RowGuard } from './record-guards';
import { runJoinStage } from './join-stage';
import type { RepartitionFormat } from './shuffle-codec';
import { runShuffleStage } from './shuffle-stage';
import { runSourceStageInSlices } from './source-stage';
import type { TaskRuntime } from './task-runtime';
import type { Bounds } from './trigger-planner';

/** What one trigger did, across its tasks (progress-builder turns it into the progress event). */
export interface TriggerStats {
  sources: Map<string, SourceTrigger>;
  eventTimes: number[];
  invalidRows: number;
  numOutputRows: number;
  state: StateTrigger | undefined;
  batchIds: number[];
  tasks: string[];
  /**
   * Tasks whose batch committed to the query's sink (not to the repartition topic): what an
   * upgrade's health gate counts as a batch, since a stateful plan's source tasks commit even
   * when its sink refuses everything.
   */
  sinkBatches: number;
  /** Output rows the sink committed, and those sent to dead letters instead (row checks or the sink). */
  writtenOutputRows: number;
  deadLetteredOutputRows: number;
  ran: boolean;
  /**
   * Each source topic's offsets as this trigger listed them to plan its batches: what its progress
   * reports as `latestOffset`, as Spark's Kafka source reports the answer of the trigger's own
   * `latestOffset` call (KafkaMicroBatchStream.reportLatestOffset) rather than listing again.
   */
  listed?: Map<string, Map<number, Bounds>>;
  /** Why the trigger failed, when it did (reported in progress). */
  error?: string;
  /** The failure is waited out (a database unreachable), not counted toward the 5 in a row. */
  waitedOut?: boolean;
  /** Why the sink refused, when a failed trigger found it refusing (reported in progress). */
  sinkError?: string;
}

/**
 * Another owner wrote this batch's offset-log entry first (the task moved and this owner has not
 * heard yet): this attempt's output was not committed, and the task is recovered from the log.
 */
export class PlanTakenError extends Error {
  constructor(task: string, batchId: number) {
    super(`task ${task} batch ${batchId}: another owner planned this batch first`);
    this.name = 'PlanTakenError';
  }
}

export const emptyTriggerStats = (): TriggerStats => ({
  sources: new Map(),
  eventTimes: [],
  invalidRows: 0,
  numOutputRows: 0,
  state: undefined,
  batchIds: [],
  tasks: [],
  sinkBatches: 0,
  writtenOutputRows: 0,
  deadLetteredOutputRows: 0,
  ran: false,
});

export interface BatchContext {
  queryId: string;
  checkpoint: CheckpointStore;
  source: Source;
  sink: Sink;
  executor: QueryExecutor;
  outputMode: OutputMode;
  numShufflePartitions: number;
  sourceByTopic: ReadonlyMap<string, SourceSpec>;
  columns: OutputColumn[];
  /** The sink's per-row checks. */
  guard: RowGuard | undefined;
  dlqTopic: string;
  /** The repartition topic of a stateful plan (undefined = stateless). */
  repartitionTopic: string | undefined;
  /** How the source stage writes it: the checkpoint's metadata decides (shuffle-codec.ts). */
  repartitionFormat: RepartitionFormat;
  topicLimit(topic: string): number;
  log(level: 'warn', msg: string): void;
  /** Source records a continuing lineage reads again below the old end (continue-offsets.ts). */
  sourceReplay?(topic: string, partition: number): ReplaySet | undefined;
  /** A stream–static join's table as cached for the running trigger (source/static-table.ts). */
  staticTable?(): StaticTableIndex;
}

export function emptyStateTrigger(numShufflePartitions: number): StateTrigger {
  return {
    numRowsTotal: 0,
    numRowsUpdated: 0,
    numRowsRemoved: 0,
    allUpdatesTimeMs: 0,
    allRemovalsTimeMs: 0,
    commitTimeMs: 0,
    memoryUsedBytes: 0,
    numRowsDroppedByWatermark: 0,
    numShufflePartitions,
    numStateStoreInstances: 0,
  };
}

/** The trigger's shared transaction and the transactional id its batches name as `writer`. */
export interface SharedCommit {
  txn: TriggerTransaction;
  writer: string;
}

/**
 * Does this batch commit in the trigger's shared transaction? A new plan of a kafka-group task
 * does; a replay (planned by someone else, whose writer recovery fenced) commits on the task's
 * own producer, and other targets have markers of their own.
 */
export const joinsTriggerTransaction = (rt: TaskRuntime, planned: OffsetLogEntry): boolean =>
  planned !== rt.replay && rt.committer.marker === 'kafka-group';

/**
 * Runs `planned` for `rt` and advances the task on success. `durations` collects phase times
 * (the slowest task's, as a Spark stage's). With `shared`, a batch that joinsTriggerTransaction
 * names its writer in the offset log and commits in that transaction; the caller withdraws the
 * task from it if this throws.
 */
export async function runTaskBatch(
  ctx: BatchContext,
  rt: TaskRuntime,
  plannedBatch: OffsetLogEntry,
  stats: TriggerStats,
  durations: Record<string, number>,
  shared?: SharedCommit,
): Promise<void> {
  const add = (k: string, ms: number): void => {
    durations[k] = Math.max(durations[k] ?? 0, ms);
  };
  const inShared = shared && joinsTriggerTransaction(rt, plannedBatch) ? shared : undefined;
  const planned = inShared ? { ...plannedBatch, writer: inShared.writer } : plannedBatch;
  let t = Date.now();
  // A new plan of a source task whose marker is a Kafka transaction: nothing it does is visible
  // before the transaction commits, so its offset-log (WAL) write runs beside the read, the stage
  // and the transaction's requests, and only the commit waits for it (issue 20 §5). A replay
  // (its plan read from the log) and every other task write first, as Spark's offset log does.
  const overlap =
    plannedBatch !== rt.replay && rt.stage === 'source' && rt.committer.marker === 'kafka-group';
  let entry = planned;
  let planWritten: Promise<void> | undefined;
  if (overlap) {
    const walStart = t;
    planWritten = ctx.checkpoint.writeOffsets(rt.task, planned).then((stored) => {
      add('walCommit', Date.now() - walStart);
      // Create-exclusive: another owner planned this batch first; its plan wins, this output is void.
      if (stored !== planned) throw new PlanTakenError(rt.task, planned.batchId);
    });
    // Awaited by the commit; a batch that fails before it leaves the write to finish on its own.
    planWritten.catch(() => undefined);
  } else {
    // Create-exclusive: if another owner already planned this batch, its plan wins.
    entry = await ctx.checkpoint.writeOffsets(rt.task, planned);
    add('walCommit', Date.now() - t);
    // In a shared transaction only a batch this writer planned may commit: the other owner's plan
    // may be committing in its own instance's transaction, which only recovery's fence settles.
    if (inShared && entry !== planned) throw new PlanTakenError(rt.task, planned.batchId);
  }
  t = Date.now();
  const read =
    entry.range.end > entry.range.start
      ? await ctx.source.read(
          rt.stage,
          rt.topic,
          rt.partition,
          entry.range.start,
          entry.range.end,
          entry.files,
        )
      : [];
  // Below the old lineage's end a continuing lineage reads only the old shuffle backlog's
  // records again; the rest were the old version's (deterministic: the replay set is fixed).
  const replay = rt.stage === 'source' ? ctx.sourceReplay?.(rt.topic, rt.partition) : undefined;
  const records =
    replay && entry.range.start < replay.until ? read.filter((r) => replays(replay, r.offset)) : read;
  add('getBatch', Date.now() - t);
  t = Date.now();
  const output = emptyOutput();
  const dlq = ctx.dlqTopic;
  const dlqMax = maxRecordBytes(ctx.topicLimit(dlq));
  let maxEventTimeMs: number | null = null;
  let staged = 0;
  const toSink = (
    rows: Array<Record<string, unknown>>,
    deadLetter: (i: number, reason: string) => Message,
  ) => {
    stats.numOutputRows += rows.length;
    staged += rows.length;
    ctx.sink.stage(rows, output, deadLetter);
  };
  if (rt.stage === 'source') {
    const source = ctx.sourceByTopic.get(rt.topic)!;
    const repartition = ctx.repartitionTopic;
    const res = await runSourceStageInSlices({
      queryId: ctx.queryId,
      source,
      executor: ctx.executor,
      numShufflePartitions: ctx.numShufflePartitions,
      records,
      guard: ctx.guard,
      repartition: repartition
        ? { topic: repartition, maxMessageBytes: ctx.topicLimit(repartition), format: ctx.repartitionFormat }
        : undefined,
      dlqMaxRecordBytes: dlqMax,
      partialReplay: replay?.partial ? (r) => partialReplay(replay, r.offset) : undefined,
      ...(ctx.staticTable ? { staticTable: ctx.staticTable() } : {}),
    });
    stats.invalidRows += res.invalidRows;
    stats.eventTimes.push(...res.eventTimes);
    output.kafka.push({ topic: dlq, messages: res.deadLetters });
    if (repartition) output.kafka.push({ topic: repartition, messages: res.shuffled });
    else
      toSink(res.rows, (i, reason) =>
        deadLetterMessage(ctx.queryId, res.origins[i]!, reason, dlqMax, 'output'),
      );
  } else {
    const state = rt.state!;
    const stage = {
      executor: ctx.executor,
      outputMode: ctx.outputMode,
      state,
      records,
      watermarkMs: entry.watermarkMs,
      watermarkEnabled: rt.watermark !== undefined,
    };
    const joined = ctx.executor.streamJoin ? runJoinStage(stage) : undefined;
    const res = joined ?? runShuffleStage(stage);
    if (joined)
      for (const [side, t] of Object.entries(joined.sideMaxEventTimeMs)) rt.watermark?.observe(side, t);
    else if (res.maxEventTimeMs !== undefined) rt.watermark?.observe('rows', res.maxEventTimeMs);
    maxEventTimeMs = res.maxEventTimeMs ?? null;
    // Output rows are checked again here: aggregate values (a max() over text, say) are only
    // known now. A refused row is a dead letter carrying the row itself.
    const batch = { task: rt.task, batchId: entry.batchId };
    const dead: Message[] = [
      ...res.failedRecords.map((f) =>
        deadLetterMessage(ctx.queryId, f.record, f.reason, dlqMax, 'input', f.origin),
      ),
      ...res.failedGroups.map((f) => outputRowDeadLetter(ctx.queryId, batch, f.row, f.reason, dlqMax)),
    ];
    const rows: Array<Record<string, unknown>> = [];
    for (const row of res.rows) {
      const refused = ctx.guard?.(row);
      if (refused)
        dead.push(outputRowDeadLetter(ctx.queryId, batch, toJsonRow(row, ctx.columns), refused, dlqMax));
      else rows.push(row);
    }
    stats.invalidRows += dead.length;
    // Output rows (a group's row) refused before the sink; failed input records are not output.
    stats.deadLetteredOutputRows += dead.length - res.failedRecords.length;
    output.kafka.push({ topic: dlq, messages: dead });
    toSink(rows, (i, reason) =>
      outputRowDeadLetter(ctx.queryId, batch, toJsonRow(rows[i]!, ctx.columns), reason, dlqMax),
    );
    const c = Date.now();
    const m = await state.commit(entry.batchId);
    recordState(stats, m, res, Date.now() - c, ctx.numShufflePartitions);
  }
  add('addBatch', Date.now() - t);
  t = Date.now();
  const committed = await rt.committer.commit(entry, output, planWritten, inShared?.txn);
  // The sink's own output (not the repartition topic of a stateful plan's source stage).
  const writesSink = rt.stage !== 'source' || ctx.repartitionTopic === undefined;
  if (committed.refusedRows > 0) {
    stats.invalidRows += committed.refusedRows;
    stats.deadLetteredOutputRows += committed.refusedRows;
    ctx.log(
      'warn',
      `task ${rt.task} batch ${entry.batchId}: the sink refused ${committed.refusedRows} row(s) for their data; sent to ${dlq}`,
    );
  }
  if (rt.committer.marker !== 'kafka-group' && rt.stage === 'source') {
    // Keeps the group's lag meaningful for sinks whose marker lives elsewhere.
    await ctx.source
      .commitPosition(rt.topic, rt.partition, entry.range.end)
      // Only the lag shown to operators depends on it (exactly-once rests on the sink's marker);
      // the next batch commits a later offset anyway.
      .catch((e: Error) => ctx.log('warn', `group offset for lag not committed: ${e.message}`));
  }
  rt.maxEventTimeMs = maxEventTimeMs ?? rt.maxEventTimeMs;
  const commitEntry = {
    batchId: entry.batchId,
    maxEventTimeMs: rt.maxEventTimeMs,
    committedAt: new Date().toISOString(),
  };
  // After the previous batch's write: entries land in batch order.
  const written = (rt.commitLogWrites ?? Promise.resolve()).then(() =>
    ctx.checkpoint.writeCommit(rt.task, commitEntry),
  );
  if (rt.committer.marker === 'checkpoint') {
    // The commit log is this sink's marker: the batch is committed only once it is written.
    rt.commitLogWrites = undefined;
    await written;
  } else {
    // The sink's marker (the group offset or the sink_commits row, written atomically with the
    // output above) alone decides at recovery whether this batch committed (task-runtime.ts
    // recoverTask asks the committer, then writes a missing commit log entry itself), so the
    // batch does not wait for this write: exactly-once does not rest on it. What rides on it is
    // the event-time maximum for the watermark after a restart, which a lost write makes one
    // batch older, as a crash between the marker and the write always could.
    rt.commitLogWrites = written.catch((e: Error) =>
      ctx.log('warn', `task ${rt.task} batch ${entry.batchId}: commit log not written: ${e.message}`),
    );
  }
  add('commitOffsets', Date.now() - t);
  rt.replay = undefined;
  rt.lastPlanned = entry;
  rt.nextStart = entry.range.end;
  rt.nextBatchId = entry.batchId + 1;
  rt.lastBatchWatermarkMs = entry.watermarkMs;
  if (rt.watermark) rt.watermark.advance();
  stats.ran = true;
  stats.batchIds.push(entry.batchId);
  stats.tasks.push(rt.task);
  // Input rows count once committed: a batch that fails is read again by the one that commits
  // it, so counting its rows in the failed trigger too reported them twice (metrics, the
  // capacity model, the canary's throughput all sum numInputRows).
  if (rt.stage === 'source') recordSource(stats, entry, records.length);
  if (writesSink) {
    stats.sinkBatches++;
    stats.writtenOutputRows += staged - committed.refusedRows;
  }
  if (entry.batchId % 10 === 0 && entry.batchId >= 100)
    await ctx.checkpoint.purgeBatches(rt.task, entry.batchId - 99);
}

function recordSource(stats: TriggerStats, entry: OffsetLogEntry, rows: number): void {
  const { topic, partition, start, end } = entry.range;
  let s = stats.sources.get(topic);
  if (!s) {
    s = { topic, start: {}, end: {}, latest: {}, numInputRows: 0 };
    stats.sources.set(topic, s);
  }
  s.start[String(partition)] = start;
  s.end[String(partition)] = end;
  s.numInputRows += rows;
}

function recordState(
  stats: TriggerStats,
  m: { numRowsUpdated: number; numRowsRemoved: number },
  res: { numRowsDroppedByWatermark: number; updateTimeMs: number; removalTimeMs: number },
  commitMs: number,
  numShufflePartitions: number,
): void {
  const s = (stats.state ??= emptyStateTrigger(numShufflePartitions));
  s.numRowsUpdated += m.numRowsUpdated;
  s.numRowsRemoved += m.numRowsRemoved;
  s.allUpdatesTimeMs += res.updateTimeMs;
  s.allRemovalsTimeMs += res.removalTimeMs;
  s.commitTimeMs += commitMs;
  s.numRowsDroppedByWatermark += res.numRowsDroppedByWatermark;
}
