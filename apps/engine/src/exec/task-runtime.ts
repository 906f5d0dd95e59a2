// One task's live state inside an instance, and its recovery from the checkpoint + marker
// (Spark's rule: the newest planned batch that is not committed is re-run with the same offsets).
import type { CheckpointStore, OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { WatermarkTracker, type WatermarkSpec } from '../offsets/watermark-tracker';
import type { StateStore } from '../state/state-store';
import type { StateStoreProvider } from '../state/state-store-provider';
import { JOIN_WATERMARK_KEY } from './join-stage';
import type { TaskCommitter } from './task-committer';

export type Stage = 'source' | 'shuffle';

export interface TaskRuntime {
  task: string;
  stage: Stage;
  topic: string;
  partition: number;
  committer: TaskCommitter;
  nextBatchId: number;
  /** Where the next new batch starts (unknown until the first plan when the task has no history). */
  nextStart: number | undefined;
  /** A planned batch whose output is not visible yet: it is re-run before anything new. */
  replay: OffsetLogEntry | undefined;
  /** The newest planned batch (a file source's cursor rides in it: file-selection.ts). */
  lastPlanned: OffsetLogEntry | undefined;
  state: StateStore | undefined;
  watermark: WatermarkTracker | undefined;
  /** Watermark the last batch ran with; a higher one makes a no-data batch worthwhile. */
  lastBatchWatermarkMs: number;
  /**
   * The newest event time the task's batches have seen, carried into each commit log entry (kept
   * here so a batch does not read the previous entry back).
   */
  maxEventTimeMs: number | null;
  /** The commit log writes not awaited by the batch (task-batch.ts), in order; flushCommitLog waits. */
  commitLogWrites: Promise<void> | undefined;
}

/** Waits for the task's pending commit log writes (before the task is released or closed). */
export async function flushCommitLog(rt: TaskRuntime): Promise<void> {
  await rt.commitLogWrites;
}

export const sourceTaskId = (topic: string, partition: number): string => `src.${topic}.${partition}`;
export const shuffleTaskId = (partition: number): string => `shuffle.${partition}`;

export async function recoverTask(args: {
  checkpoint: CheckpointStore;
  committer: TaskCommitter;
  stage: Stage;
  topic: string;
  partition: number;
  stateOperator: string | undefined;
  /** Where the task's state lives (the query's `options.stateStore`). */
  stateStores: StateStoreProvider;
  watermarkDelayMs: number | undefined;
  /**
   * A stream–stream join's task: one watermark source per side (join-stage.ts), whose maxima are
   * restored from the state store rather than the commit log.
   */
  watermarkSources?: WatermarkSpec[];
}): Promise<TaskRuntime> {
  const { checkpoint, committer } = args;
  const task = committer.task;
  await committer.open();
  const { offsets: wal, commit } = await checkpoint.latest(task);
  let lastCommitted = -1;
  let nextStart: number | undefined;
  let replay: OffsetLogEntry | undefined;
  if (wal) {
    // The newest batch may have been planned for another instance's trigger transaction, which
    // only fencing that writer completes; its older batches are settled (a batch is planned only
    // once the previous one is visible). Once that batch is committed, its writer holds nothing of
    // this task's: a later batch of the task is planned create-exclusive in the offset log, and a
    // trigger transaction never commits a plan that is not its own (task-batch.ts), so the writer
    // is left alone. Fencing it would abort whatever else its current trigger carries, which at a
    // rebalance is the old owner's batches of the partitions it keeps.
    let committed = await committer.isCommitted(wal);
    if (!committed) {
      await committer.fenceWriterOf(wal);
      // Asked again once every writer that could commit it is fenced (open() fenced the task's
      // own producer): it may have committed between the read and the fence, and a transaction's
      // offsets are readable only a moment after it ended, so this read waits for them (stable).
      committed = await committer.isCommitted(wal, true);
    }
    if (committed) {
      lastCommitted = wal.batchId;
      nextStart = wal.range.end;
      if (!commit || commit.batchId < wal.batchId) {
        // The output became visible but the commit log write was lost: complete it now.
        await checkpoint.writeCommit(task, {
          batchId: wal.batchId,
          maxEventTimeMs: commit?.maxEventTimeMs ?? null,
          committedAt: new Date().toISOString(),
        });
      }
    } else {
      lastCommitted = wal.batchId - 1;
      replay = wal;
    }
  }
  const lastCommit =
    commit && commit.batchId <= lastCommitted
      ? commit
      : lastCommitted >= 0
        ? await checkpoint.readCommit(task, lastCommitted)
        : undefined;
  const state = args.stateOperator
    ? await args.stateStores.getStore(task, args.stateOperator, lastCommitted)
    : undefined;
  const restoredWatermarkMs = wal && !replay ? wal.watermarkMs : (replay?.watermarkMs ?? 0);
  const joinMax = args.watermarkSources
    ? ((state?.get(JOIN_WATERMARK_KEY) ?? {}) as Record<string, number>)
    : undefined;
  const watermark = joinMax
    ? new WatermarkTracker(args.watermarkSources ?? [], {
        maxEventTimeMs: joinMax,
        watermarkMs: restoredWatermarkMs,
      })
    : args.watermarkDelayMs !== undefined
      ? new WatermarkTracker([{ source: 'rows', delayMs: args.watermarkDelayMs }], {
          maxEventTimeMs: lastCommit?.maxEventTimeMs != null ? { rows: lastCommit.maxEventTimeMs } : {},
          watermarkMs: wal && !replay ? wal.watermarkMs : (replay?.watermarkMs ?? 0),
        })
      : undefined;
  // Re-derive the watermark for the next batch from what the last committed batch saw.
  if (watermark && !replay) watermark.advance();
  return {
    task,
    stage: args.stage,
    topic: args.topic,
    partition: args.partition,
    committer,
    nextBatchId: lastCommitted + 1,
    nextStart,
    replay,
    lastPlanned: wal,
    state,
    watermark,
    lastBatchWatermarkMs: wal?.watermarkMs ?? 0,
    maxEventTimeMs: lastCommit?.maxEventTimeMs ?? null,
    commitLogWrites: undefined,
  };
}
