import { describe, expect, it } from 'vitest';
import { lagSample, progressSamples } from './progress-window';

describe('lagSample', () => {
  it('keeps every partition end offset in topic and partition order, whatever order the poll had', () => {
    const part = (topic: string, partition: number, endOffset: number) => ({
      topic,
      partition,
      committedOffset: endOffset - 5,
      endOffset,
      recordsBehind: 5,
      secondsBehind: partition,
    });
    const sample = lagSample([part('b', 0, 40), part('a', 1, 20), part('a', 0, 10)], 1000);
    expect(sample).toEqual({
      timeMs: 1000,
      records: 15,
      seconds: 1,
      endOffsets: 70,
      partitionEndOffsets: [10, 20, 40],
    });
  });
});

describe('progressSamples', () => {
  it("adds an engine's reported outsideTriggerMs to its batch; a bad or missing one adds nothing", () => {
    const row = (instance: string, batchDurationMs: number, sluice: unknown) => ({
      timestamp: new Date(5_000),
      instance,
      runId: 'r',
      numInputRows: 100n,
      batchDurationMs,
      payload: { sluice },
    });
    const [sample] = progressSamples(
      [row('a', 400, { outsideTriggerMs: 120 }), row('b', 450, { outsideTriggerMs: -3 }), row('c', 300, {})],
      1000,
    );
    expect(sample?.busyMs).toBe(520 + 450 + 300);
    expect(sample?.batchDurationMs).toBe(520);
  });

  it("keeps the youngest engine process's count of batches with rows; a bad one counts as unreported", () => {
    const row = (instance: string, timestampMs: number, sluice: unknown) => ({
      timestamp: new Date(timestampMs),
      instance,
      runId: instance,
      numInputRows: 100n,
      batchDurationMs: 300,
      payload: { sluice },
    });
    const [withNew, old, bad] = progressSamples(
      [
        row('a', 5_000, { processRowBatches: 41 }),
        row('b', 5_100, { processRowBatches: 2 }),
        row('a', 6_000, { processRowBatches: 42 }),
        row('a', 7_000, { processRowBatches: 0 }),
        row('b', 7_100, { processRowBatches: 'three' }),
      ],
      1000,
    );
    expect(withNew?.minProcessRowBatches).toBe(2);
    expect(old?.minProcessRowBatches).toBe(42);
    expect(bad?.minProcessRowBatches).toBeUndefined();
  });

  it("charges a round its CPU over the query's CPU limit when the engine reports the round", () => {
    const row = (instance: string, sluice: unknown) => ({
      timestamp: new Date(5_000),
      instance,
      runId: 'r',
      numInputRows: 100n,
      batchDurationMs: 200,
      payload: { sluice },
    });
    const rows = [
      row('a', { roundCpuMs: 60, roundWallMs: 1000 }),
      row('b', { roundCpuMs: 'x', roundWallMs: 1000 }),
      row('c', { roundCpuMs: 30 }),
    ];
    // a: 60 ms of CPU at 0.1 CPU is 600 ms of the quota; b and c report no usable round.
    expect(progressSamples(rows, 1000, 0.1)[0]?.busyMs).toBe(600 + 200 + 200);
    // No limit on the query: wall time only.
    expect(progressSamples(rows, 1000, null)[0]?.busyMs).toBe(600);
  });
});
