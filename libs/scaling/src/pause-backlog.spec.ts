import { describe, expect, it } from 'vitest';
import { pauseBacklog, pauseDrain } from './pause-backlog';
import type { LagSample, ProgressSample } from './types';

/** A batch of `instances` that ended at `endS` after `durationS`, under a 10 s trigger. */
function batch(endS: number, durationS: number, instances: number): ProgressSample {
  return {
    timeMs: endS * 1000,
    inputRowsPerSecond: 6000,
    processedRowsPerSecond: 6000,
    batchDurationMs: durationS * 1000,
    numInputRows: 60_000,
    triggerMs: 10_000,
    instances,
  };
}

const lag = (records: number, seconds: number): LagSample => ({ timeMs: 0, records, seconds });

/**
 * 12 instances with 9 s batches every 10 s until 1009; the policy asks for 16 at 1010; the first
 * 16-instance batch starts at 1040 (it ends at 1049 after 9 s): 31 s without a batch, 1 of them the
 * usual wait for the next trigger, so 30 s of pause and abandoned batch.
 */
const scaledUp = [batch(989, 9, 12), batch(999, 9, 12), batch(1009, 9, 12), batch(1049, 9, 16)];

describe('pauseBacklog', () => {
  it('counts the time without batches at a membership change after the action, beyond the usual wait', () => {
    const b = pauseBacklog({ samples: scaledUp, sinceMs: 1_005_000, lag: lag(300_000, 50), demand: 6000 });
    expect(b?.pausedSeconds).toBeCloseTo(30);
    expect(b?.resumedMs).toBe(1_040_000);
    // 6000/s for 30 s: 180,000 of the 300,000 records waiting, 30 s of the 50 s lag.
    expect(b?.records).toBeCloseTo(180_000);
    expect(b?.lagSeconds).toBeCloseTo(30);
    expect(b?.unexplainedRecords).toBeCloseTo(120_000);
  });

  it('never explains more than the lag', () => {
    const b = pauseBacklog({ samples: scaledUp, sinceMs: 1_005_000, lag: lag(60_000, 10), demand: 6000 });
    expect(b?.records).toBe(60_000);
    expect(b?.lagSeconds).toBe(10);
    expect(b?.unexplainedRecords).toBe(0);
  });

  it('ignores changes before the action and groups that did not change', () => {
    expect(
      pauseBacklog({ samples: scaledUp, sinceMs: 1_045_000, lag: lag(300_000, 50), demand: 6000 }),
    ).toBeUndefined();
    const steady = [batch(989, 9, 12), batch(999, 9, 12), batch(1009, 9, 12)];
    expect(pauseBacklog({ samples: steady, sinceMs: 0, lag: lag(60_000, 10), demand: 6000 })).toBeUndefined();
  });

  it('adds up every join of instances that start one by one', () => {
    const joins = [batch(999, 9, 12), batch(1029, 9, 13), batch(1059, 9, 14)];
    // Each gap is 21 s, 1 of it the usual wait.
    const b = pauseBacklog({ samples: joins, sinceMs: 990_000, lag: lag(1_000_000, 100), demand: 6000 });
    expect(b?.pausedSeconds).toBeCloseTo(40);
    expect(b?.resumedMs).toBe(1_050_000);
  });

  it('rejects a demand that is not a number >= 0', () => {
    expect(() => pauseBacklog({ samples: scaledUp, sinceMs: 0, lag: lag(1, 1), demand: Number.NaN })).toThrow(
      RangeError,
    );
    expect(() => pauseBacklog({ samples: scaledUp, sinceMs: 0, lag: lag(1, 1), demand: -1 })).toThrow(
      RangeError,
    );
  });
});

describe('pauseDrain', () => {
  const backlog = pauseBacklog({
    samples: scaledUp,
    sinceMs: 1_005_000,
    lag: lag(300_000, 50),
    demand: 6000,
  });
  if (!backlog) throw new Error('fixture has a pause');
  const at = { nowMs: 1_100_000, demand: 6000, horizonSeconds: 300 };

  it('is a bounded catch-up when the spare capacity drains it within the horizon of resuming', () => {
    // 180,000 records at 9000 - 6000 spare: 60 s more, 60 s after resuming at 1040.
    const d = pauseDrain(backlog, { ...at, readyRate: 9000 });
    expect(d.drainSeconds).toBeCloseTo(60);
    expect(d.drains).toBe(true);
  });

  it('is missing capacity when the spare capacity would take too long', () => {
    // 1000/s spare: 180 s more, ending 240 s after resuming; a 200 s horizon is exceeded.
    const d = pauseDrain(backlog, { ...at, readyRate: 7000, horizonSeconds: 200 });
    expect(d.drainSeconds).toBeCloseTo(180);
    expect(d.drains).toBe(false);
  });

  it('never drains without spare capacity', () => {
    const d = pauseDrain(backlog, { ...at, readyRate: 6000 });
    expect(d.drainSeconds).toBe(Number.POSITIVE_INFINITY);
    expect(d.drains).toBe(false);
  });

  it('rejects a horizon or a ready rate that is not a positive number', () => {
    expect(() => pauseDrain(backlog, { ...at, readyRate: 9000, horizonSeconds: 0 })).toThrow(RangeError);
    expect(() => pauseDrain(backlog, { ...at, readyRate: 9000, horizonSeconds: Infinity })).toThrow(
      RangeError,
    );
    expect(() => pauseDrain(backlog, { ...at, readyRate: Number.NaN })).toThrow(RangeError);
  });
});
