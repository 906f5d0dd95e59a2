import { describe, expect, it } from 'vitest';
import {
  DataLossError,
  offsetsBehindLatest,
  planBatch,
  prorate,
  resolveDataLoss,
  type PartitionPosition,
} from './offset-planner';
import { parseStartingOffsets, resolveStartingOffset } from './starting-offsets';

const pos = (partition: number, start: number, latest: number, earliest = 0): PartitionPosition => ({
  topic: 't',
  partition,
  start,
  latest,
  earliest,
});
const ends = (plan: ReturnType<typeof planBatch>) =>
  plan.kind === 'run' ? plan.ranges.map((r) => r.end - r.start) : [];

describe('maxOffsetsPerTrigger', () => {
  it('splits the limit across partitions in proportion to their backlog', () => {
    const ranges = prorate([pos(0, 0, 600), pos(1, 100, 400), pos(2, 0, 100)], 100);
    expect(ranges.map((r) => r.end - r.start)).toEqual([60, 30, 10]);
  });

  it('rounds shares below one up so that a small partition is not starved, and never passes the end', () => {
    const ranges = prorate([pos(0, 0, 10_000), pos(1, 0, 1)], 10);
    expect(ranges.map((r) => [r.start, r.end])).toEqual([
      [0, 9],
      [0, 1],
    ]);
  });

  it('takes everything when the backlog is below the limit, and leaves caught-up partitions alone', () => {
    const ranges = prorate([pos(0, 5, 8), pos(1, 7, 7)], 1000);
    expect(ranges.map((r) => [r.start, r.end])).toEqual([
      [5, 8],
      [7, 7],
    ]);
  });

  it('reads all available offsets without a limit', () => {
    const plan = planBatch({
      positions: [pos(0, 0, 500), pos(1, 0, 7)],
      limits: { maxTriggerDelayMs: 0 },
      failOnDataLoss: true,
      nowMs: 10,
      lastTriggerMs: 0,
    });
    expect(ends(plan)).toEqual([500, 7]);
  });
});

describe('minOffsetsPerTrigger and maxTriggerDelay', () => {
  const limits = { minOffsetsPerTrigger: 100, maxTriggerDelayMs: 15_000 };

  it('delays the batch while fewer offsets than the minimum are available', () => {
    const plan = planBatch({
      positions: [pos(0, 0, 40), pos(1, 0, 50)],
      limits,
      failOnDataLoss: true,
      nowMs: 20_000,
      lastTriggerMs: 10_000,
    });
    expect(plan).toEqual({ kind: 'delay', available: 90, dataLoss: [] });
  });

  it('runs once the minimum is available', () => {
    const plan = planBatch({
      positions: [pos(0, 0, 60), pos(1, 0, 50)],
      limits,
      failOnDataLoss: true,
      nowMs: 20_000,
      lastTriggerMs: 10_000,
    });
    expect(plan.kind).toBe('run');
  });

  it('runs with whatever is available once maxTriggerDelay has passed', () => {
    const plan = planBatch({
      positions: [pos(0, 0, 3)],
      limits,
      failOnDataLoss: true,
      nowMs: 25_000,
      lastTriggerMs: 10_000,
    });
    expect(ends(plan)).toEqual([3]);
  });

  it('applies maxOffsetsPerTrigger on top of the minimum', () => {
    const plan = planBatch({
      positions: [pos(0, 0, 1000), pos(1, 0, 1000)],
      limits: { ...limits, maxOffsetsPerTrigger: 200 },
      failOnDataLoss: true,
      nowMs: 20_000,
      lastTriggerMs: 10_000,
    });
    expect(ends(plan)).toEqual([100, 100]);
  });
});

describe('failOnDataLoss', () => {
  it('fails with a clear error naming the partition when offsets aged out', () => {
    expect(() => resolveDataLoss([pos(3, 10, 500, 120)], true)).toThrow(DataLossError);
    expect(() => resolveDataLoss([pos(3, 10, 500, 120)], true)).toThrow(
      /t-3: offsets 10\.\.119 are no longer available.*failOnDataLoss/,
    );
  });

  it('skips to the earliest offset and counts the loss when allowed', () => {
    const { positions, dataLoss } = resolveDataLoss([pos(3, 10, 500, 120), pos(4, 7, 9)], false);
    expect(positions.map((p) => p.start)).toEqual([120, 7]);
    expect(dataLoss).toEqual([expect.objectContaining({ topic: 't', partition: 3, lostOffsets: 110 })]);
  });

  it('treats a checkpoint offset beyond the log end as loss (topic re-created)', () => {
    const { positions, dataLoss } = resolveDataLoss([pos(0, 900, 50, 0)], false);
    expect(positions[0]?.start).toBe(0);
    expect(dataLoss[0]?.message).toContain('beyond the log end');
  });
});

describe('startingOffsets', () => {
  it('parses earliest, latest and Spark JSON', () => {
    expect(parseStartingOffsets('earliest')).toEqual({ kind: 'earliest' });
    expect(parseStartingOffsets(undefined)).toEqual({ kind: 'latest' });
    const specific = parseStartingOffsets('{"t":{"0":23,"1":-2,"2":-1}}');
    expect(resolveStartingOffset(specific, 't', 0, 5, 100)).toBe(23);
    expect(resolveStartingOffset(specific, 't', 1, 5, 100)).toBe(5);
    expect(resolveStartingOffset(specific, 't', 2, 5, 100)).toBe(100);
    expect(resolveStartingOffset(specific, 't', 3, 5, 100)).toBe(5);
  });
  it('rejects malformed values', () => {
    expect(() => parseStartingOffsets('{"t":{"x":1}}')).toThrow('invalid entry t/x');
    expect(() => parseStartingOffsets('oldest')).toThrow('not valid JSON');
  });
});

describe('offsets behind latest', () => {
  it('reports min, max and average per partition like Spark', () => {
    const latest = new Map([
      ['t:0', 100],
      ['t:1', 50],
    ]);
    expect(
      offsetsBehindLatest(
        [
          { topic: 't', partition: 0, start: 0, end: 90 },
          { topic: 't', partition: 1, start: 0, end: 50 },
        ],
        latest,
      ),
    ).toEqual({ min: 0, max: 10, avg: 5 });
  });
});
