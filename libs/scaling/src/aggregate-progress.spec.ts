import { describe, expect, it } from 'vitest';
import { aggregateProgress } from './aggregate-progress';

describe('aggregateProgress', () => {
  it('folds the instances of one trigger interval into one sample', () => {
    const samples = aggregateProgress(
      [
        { startMs: 10_000, instance: 'a', numInputRows: 4000, batchDurationMs: 4000 },
        { startMs: 10_020, instance: 'b', numInputRows: 6000, batchDurationMs: 5000 },
        { startMs: 20_000, instance: 'a', numInputRows: 1000, batchDurationMs: 1000 },
      ],
      10_000,
    );
    expect(samples).toHaveLength(2);
    expect(samples[0]).toEqual({
      timeMs: 15_020,
      inputRowsPerSecond: 1000,
      processedRowsPerSecond: 1000 + 1200,
      batchDurationMs: 5000,
      numInputRows: 10_000,
      // The slowest batch's own rows (instance b's), not an even share of the 10,000.
      slowestBatchRows: 6000,
      triggerMs: 10_000,
      instances: 2,
      busyMs: 9000,
    });
    expect(samples[1]?.instances).toBe(1);
  });

  it("keeps the fewest batches with rows of the interval's processes and counts the first ones, ignoring batches without rows", () => {
    const [sample] = aggregateProgress(
      [
        { startMs: 10_000, instance: 'a', numInputRows: 400, batchDurationMs: 400, processRowBatches: 30 },
        { startMs: 10_010, instance: 'b', numInputRows: 90, batchDurationMs: 900, processRowBatches: 1 },
        // An empty batch of a process that has read nothing yet: not a cold batch of rows.
        { startMs: 10_020, instance: 'c', numInputRows: 0, batchDurationMs: 50, processRowBatches: 0 },
      ],
      10_000,
    );
    expect(sample?.minProcessRowBatches).toBe(1);
    expect(sample?.firstBatches).toBe(1);
    const [two] = aggregateProgress(
      [
        { startMs: 0, instance: 'a', numInputRows: 5, batchDurationMs: 400, processRowBatches: 1 },
        { startMs: 10, instance: 'b', numInputRows: 9, batchDurationMs: 900, processRowBatches: 1 },
        { startMs: 20, instance: 'c', numInputRows: 9, batchDurationMs: 900, processRowBatches: 2 },
      ],
      10_000,
    );
    expect(two?.firstBatches).toBe(2);
    const [unreported] = aggregateProgress(
      [{ startMs: 10_000, instance: 'a', numInputRows: 400, batchDurationMs: 400 }],
      10_000,
    );
    expect(unreported).not.toHaveProperty('minProcessRowBatches');
    expect(unreported).not.toHaveProperty('firstBatches');
  });

  it("adds the engine's work outside its triggers to what a round costs", () => {
    const [sample] = aggregateProgress(
      [
        { startMs: 0, instance: 'a', numInputRows: 900, batchDurationMs: 800, outsideMs: 100 },
        { startMs: 10, instance: 'b', numInputRows: 1000, batchDurationMs: 850 },
      ],
      1000,
    );
    // a's round is 900 ms (the slowest), b reported no outside time (an older engine): 850 ms.
    expect(sample).toMatchObject({
      timeMs: 860,
      batchDurationMs: 900,
      slowestBatchRows: 900,
      busyMs: 1750,
      processedRowsPerSecond: 1000 + (1000 * 1000) / 850,
    });
  });

  it('under a CPU limit, a round costs at least its CPU over the limit, at most its wall time', () => {
    const a = {
      startMs: 0,
      instance: 'a',
      numInputRows: 1600,
      batchDurationMs: 100,
      outsideMs: 40,
      roundCpuMs: 51,
      roundWallMs: 1000,
    };
    // 51 ms of CPU at 0.1 CPU keeps the quota busy 510 ms of the round, where the batch took 140.
    expect(aggregateProgress([a], 1000, 0.1)[0]?.batchDurationMs).toBe(510);
    // Without a limit, or from an engine that does not report its round, the wall time stands.
    expect(aggregateProgress([a], 1000)[0]?.batchDurationMs).toBe(140);
    const older = { ...a, roundCpuMs: undefined, roundWallMs: undefined };
    expect(aggregateProgress([older], 1000, 0.1)[0]?.batchDurationMs).toBe(140);
    // A limit not enforced (more CPU than it allows) costs the whole round, no more.
    expect(aggregateProgress([{ ...a, roundCpuMs: 300 }], 1000, 0.1)[0]?.batchDurationMs).toBe(1000);
    // A round whose batch outlasts its CPU's share keeps the batch's cost.
    expect(aggregateProgress([{ ...a, roundCpuMs: 5 }], 1000, 0.1)[0]?.batchDurationMs).toBe(140);
  });

  it('keeps idle intervals as zero-row samples (they are completed batches) and rejects a bad trigger', () => {
    expect(
      aggregateProgress([{ startMs: 0, instance: 'a', numInputRows: 0, batchDurationMs: 10 }], 1000),
    ).toEqual([
      {
        timeMs: 10,
        inputRowsPerSecond: 0,
        processedRowsPerSecond: 0,
        batchDurationMs: 10,
        numInputRows: 0,
        triggerMs: 1000,
        instances: 1,
        busyMs: 10,
      },
    ]);
    expect(() => aggregateProgress([], 0)).toThrow(RangeError);
  });
});
