import { describe, expect, it } from 'vitest';
import {
  BATCH_TIME_BUDGET_MS,
  ThroughputMeter,
  batchTimeBudgetMs,
  recordsPerTask,
  shareBatchBound,
} from './batch-bound';

const base = { tasks: 4, budgetMs: 4000, min: 500, max: null, initial: 5000 };

describe('recordsPerTask', () => {
  it('starts from the initial trigger size, shared by the tasks, before anything was measured', () => {
    expect(recordsPerTask({ ...base, recordsPerSecond: undefined })).toBe(1250);
    expect(recordsPerTask({ ...base, recordsPerSecond: undefined, tasks: 20 })).toBe(500);
  });

  it('sizes a trigger to the budget at the measured rate, shared by the tasks that run together', () => {
    // 2,000 records/s × 4 s = 8,000 per trigger, 2,000 per task.
    expect(recordsPerTask({ ...base, recordsPerSecond: 2000 })).toBe(2000);
    expect(recordsPerTask({ ...base, recordsPerSecond: 2000, tasks: 1 })).toBe(8000);
    expect(recordsPerTask({ ...base, recordsPerSecond: 2000, tasks: 0 })).toBe(8000);
  });

  it('never goes below the minimum nor above the maximum', () => {
    expect(recordsPerTask({ ...base, recordsPerSecond: 10 })).toBe(500);
    expect(recordsPerTask({ ...base, recordsPerSecond: 1e9, max: 200_000 })).toBe(200_000);
  });
});

describe('ThroughputMeter', () => {
  it('ignores tiny triggers, then follows the rate with an exponential mean', () => {
    const m = new ThroughputMeter(500, 0.5);
    m.observe(100, 10);
    m.observe(1000, 0);
    expect(m.recordsPerSecond).toBeUndefined();
    m.observe(1000, 1000);
    expect(m.recordsPerSecond).toBe(1000);
    m.observe(3000, 1000);
    expect(m.recordsPerSecond).toBe(2000);
  });

  it('converges on batches that take the budget when overheads are fixed', () => {
    // A trigger costs 500 ms plus 1 ms per record; the budget is 4 s → (4000 − 500) / 1 = 3,500.
    const m = new ThroughputMeter(1, 1);
    let n = 600;
    for (let i = 0; i < 40; i++) {
      m.observe(n, 500 + n);
      n = recordsPerTask({ ...base, tasks: 1, recordsPerSecond: m.recordsPerSecond });
    }
    expect(Math.abs(n - 3500)).toBeLessThanOrEqual(1);
  });
});

describe('batchTimeBudgetMs', () => {
  it('is the 4 s budget for triggers that run back to back or more often, else the interval', () => {
    expect(batchTimeBudgetMs(0)).toBe(BATCH_TIME_BUDGET_MS);
    expect(batchTimeBudgetMs(1000)).toBe(BATCH_TIME_BUDGET_MS);
    expect(batchTimeBudgetMs(10_000)).toBe(10_000);
    expect(batchTimeBudgetMs(Number.NaN)).toBe(BATCH_TIME_BUDGET_MS);
  });

  it('lets an instance under a 10 s trigger keep up with input it has the capacity for', () => {
    // 1,000 records/s of capacity, 0.5 s overhead a trigger, 800 records/s arriving: a 4 s budget
    // converges on 3,500 records a trigger (350/s, the rest waits for the next interval); the
    // interval's budget on 9,500 (950/s), more than arrives.
    const converged = (budgetMs: number) => {
      const m = new ThroughputMeter(1, 1);
      let n = 5000;
      for (let i = 0; i < 40; i++) {
        m.observe(n, 500 + n);
        n = recordsPerTask({ ...base, tasks: 1, budgetMs, recordsPerSecond: m.recordsPerSecond });
      }
      return n;
    };
    expect(converged(BATCH_TIME_BUDGET_MS)).toBeLessThan(8000);
    expect(converged(batchTimeBudgetMs(10_000))).toBeGreaterThan(8000);
  });
});

describe('shareBatchBound', () => {
  it('leaves batches within the pool as they are, and applies no bound when there is none', () => {
    expect(shareBatchBound([100, 50, 0], 100)).toEqual([100, 50, 0]);
    expect(shareBatchBound([1e6, 5], Infinity)).toEqual([1e6, 5]);
    expect(shareBatchBound([], 100)).toEqual([]);
  });

  it('lets a hot task use what quiet ones leave, never giving any less than the even split', () => {
    // Pool 4 × 1000: the quiet tasks take 100 and 300, the two hot ones share the other 3,600.
    expect(shareBatchBound([5000, 100, 300, 9000], 1000)).toEqual([1800, 100, 300, 1800]);
    // One hot task among quiet ones takes nearly the whole pool.
    expect(shareBatchBound([9000, 0, 0, 10], 1000)).toEqual([3990, 0, 0, 10]);
    // Everyone hot: the even split.
    expect(shareBatchBound([5000, 6000], 1000)).toEqual([1000, 1000]);
  });
});
