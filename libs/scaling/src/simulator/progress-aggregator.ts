// Folds per-instance batches into one ProgressSample per trigger interval, the shape the control
// loop sees: an interval is reported once it is over and none of its batches is still running.
import type { ProgressSample } from '../types';
import type { BatchListener, CompletedBatch } from './engine-group';

interface Interval {
  pending: number;
  completed: number;
  rows: number;
  busySeconds: number;
  maxDuration: number;
  /** Rows of the batch that took `maxDuration`. */
  slowestRows: number;
  lastEnd: number;
  schedulingDelay: number;
  processedRate: number;
  consumers: number;
  /** The fewest batches with rows of a process behind the interval's batches (engines' report). */
  minProcessRowBatches: number | undefined;
  /** Batches that were their process's first with rows (a count of 1). */
  firstBatches: number;
}

export class ProgressAggregator implements BatchListener {
  private readonly open = new Map<number, Interval>();
  maxBatchDurationSeconds = 0;
  processedRows = 0;

  constructor(private readonly triggerSeconds: number) {}

  started(bucket: number): void {
    this.interval(bucket).pending++;
  }

  completed(batch: CompletedBatch): void {
    const interval = this.interval(batch.bucket);
    interval.pending--;
    if (batch.rows <= 0) return;
    interval.completed++;
    interval.rows += batch.rows;
    this.processedRows += batch.rows;
    interval.busySeconds += batch.duration;
    if (batch.duration > interval.maxDuration) {
      interval.maxDuration = batch.duration;
      interval.slowestRows = batch.rows;
    }
    interval.lastEnd = Math.max(interval.lastEnd, batch.endAt);
    interval.schedulingDelay = Math.max(interval.schedulingDelay, batch.startAt - batch.scheduledAt);
    interval.processedRate += batch.rows / batch.duration;
    interval.consumers = Math.max(interval.consumers, batch.consumers);
    if (batch.processRowBatches !== undefined)
      interval.minProcessRowBatches = Math.min(
        interval.minProcessRowBatches ?? Number.POSITIVE_INFINITY,
        batch.processRowBatches,
      );
    if (batch.processRowBatches === 1) interval.firstBatches++;
    this.maxBatchDurationSeconds = Math.max(this.maxBatchDurationSeconds, batch.duration);
  }

  /**
   * Intervals with no batch still running that are either over or already heard from every
   * consuming instance (so backpressure reacts as soon as the slowest batch ends), oldest first.
   */
  drain(now: number): ProgressSample[] {
    const out: ProgressSample[] = [];
    const T = this.triggerSeconds;
    for (const [bucket, interval] of [...this.open.entries()].sort((a, b) => a[0] - b[0])) {
      const complete = interval.completed > 0 && interval.completed >= interval.consumers;
      if (interval.pending > 0 || ((bucket + 1) * T > now && !complete)) continue;
      this.open.delete(bucket);
      if (interval.rows <= 0) continue;
      out.push({
        timeMs: Math.round(interval.lastEnd * 1000),
        inputRowsPerSecond: interval.rows / T,
        processedRowsPerSecond: interval.processedRate,
        batchDurationMs: Math.round(interval.maxDuration * 1000),
        numInputRows: interval.rows,
        slowestBatchRows: interval.slowestRows,
        triggerMs: Math.round(T * 1000),
        instances: interval.consumers,
        busyMs: Math.round(interval.busySeconds * 1000),
        schedulingDelayMs: Math.round(interval.schedulingDelay * 1000),
        ...(interval.minProcessRowBatches !== undefined && {
          minProcessRowBatches: interval.minProcessRowBatches,
          firstBatches: interval.firstBatches,
        }),
      });
    }
    return out.sort((a, b) => a.timeMs - b.timeMs);
  }

  private interval(bucket: number): Interval {
    let interval = this.open.get(bucket);
    if (!interval) {
      interval = {
        pending: 0,
        completed: 0,
        rows: 0,
        busySeconds: 0,
        maxDuration: 0,
        slowestRows: 0,
        lastEnd: 0,
        schedulingDelay: 0,
        processedRate: 0,
        consumers: 0,
        minProcessRowBatches: undefined,
        firstBatches: 0,
      };
      this.open.set(bucket, interval);
    }
    return interval;
  }
}
