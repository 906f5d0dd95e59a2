// When the evaluation analyses the tables after its writes: bulk changes only.
import { describe, expect, it } from 'vitest';
import { BULK_MIN_ROWS, isBulkChange, PlannerStatistics } from './planner-statistics';

describe('planner statistics after bulk changes', () => {
  it('calls a change bulk when it is at least BULK_MIN_ROWS rows and half the table', () => {
    expect(isBulkChange(0, BULK_MIN_ROWS)).toBe(true);
    expect(isBulkChange(0, BULK_MIN_ROWS - 1)).toBe(false);
    expect(isBulkChange(1000, 499)).toBe(false);
    expect(isBulkChange(1000, 500)).toBe(true);
  });

  it('analyses Alert after a tick that wrote a bulk of alerts, Query when the count seen jumps', () => {
    const s = new PlannerStatistics();
    // A new leader's first tick: 1,000 queries seen, 1,000 alerts created.
    expect(s.stale({ queries: 1000, alertsBefore: 0, alertsWritten: 1000 })).toEqual(['Alert', 'Query']);
    // Steady state: a few transitions, the same queries.
    expect(s.stale({ queries: 1000, alertsBefore: 1000, alertsWritten: 40 })).toEqual([]);
    // A mass incident resolves them all.
    expect(s.stale({ queries: 1000, alertsBefore: 1000, alertsWritten: 1000 })).toEqual(['Alert']);
    // 600 queries deleted at once.
    expect(s.stale({ queries: 400, alertsBefore: 1000, alertsWritten: 0 })).toEqual(['Query']);
    // A follower forgets: its next leadership analyses Query once more.
    s.reset();
    expect(s.stale({ queries: 400, alertsBefore: 1000, alertsWritten: 0 })).toEqual(['Query']);
    // A small installation never analyses from here.
    const small = new PlannerStatistics();
    expect(small.stale({ queries: 20, alertsBefore: 0, alertsWritten: 40 })).toEqual([]);
  });

  it('judges one share of the tables against that share of the floor', () => {
    // One of 8 shares of 1,000 queries: a mass incident in it is 125 rows, not 1,000.
    const s = new PlannerStatistics(8);
    expect(s.stale({ queries: 125, alertsBefore: 0, alertsWritten: 125 })).toEqual(['Alert', 'Query']);
    expect(s.stale({ queries: 125, alertsBefore: 125, alertsWritten: 5 })).toEqual([]);
    expect(isBulkChange(0, Math.ceil(BULK_MIN_ROWS / 8), 8)).toBe(true);
    expect(isBulkChange(0, Math.ceil(BULK_MIN_ROWS / 8) - 1, 8)).toBe(false);
  });
});
