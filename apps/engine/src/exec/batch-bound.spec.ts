import { describe, expect, it } from 'vitest';
import { ThroughputMeter, recordsPerTask } from './batch-bound';

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
