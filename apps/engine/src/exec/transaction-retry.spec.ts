// The wait-out of CONCURRENT_TRANSACTIONS (transaction-retry.ts): the schedule, and which errors
// are retried.
import { describe, expect, it } from 'vitest';
import {
  isConcurrentTransactions,
  retryConcurrentTransactions,
  retryDelaysMs,
  TASK_PRODUCER_RETRY,
} from './transaction-retry';

const concurrent = (): Error => Object.assign(new Error('concurrent'), { type: 'CONCURRENT_TRANSACTIONS' });

describe('transaction retry', () => {
  it('starts at 20 ms, doubles, caps at 2 s, and waits no less in all than kafkajs by default', () => {
    const delays = retryDelaysMs(TASK_PRODUCER_RETRY);
    expect(delays).toEqual([20, 40, 80, 160, 320, 640, 1280, 2000, 2000, 2000, 2000, 2000]);
    // kafkajs's default: 5 retries from 300 ms, doubling.
    const kafkajsDefault = retryDelaysMs({ initialRetryTime: 300, maxRetryTime: 30_000, retries: 5 });
    expect(delays.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(kafkajsDefault.reduce((a, b) => a + b));
  });

  it('retries CONCURRENT_TRANSACTIONS after each delay, then returns the result', async () => {
    const slept: number[] = [];
    let calls = 0;
    const result = await retryConcurrentTransactions(
      async () => {
        if (++calls < 3) throw concurrent();
        return 'done';
      },
      [20, 40, 80],
      async (ms) => void slept.push(ms),
    );
    expect(result).toBe('done');
    expect(slept).toEqual([20, 40]);
  });

  it('throws any other error at once, and CONCURRENT_TRANSACTIONS once the delays are spent', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number): Promise<void> => void slept.push(ms);
    await expect(
      retryConcurrentTransactions(() => Promise.reject(new Error('PRODUCER_FENCED')), [20], sleep),
    ).rejects.toThrow('PRODUCER_FENCED');
    expect(slept).toEqual([]);
    await expect(
      retryConcurrentTransactions(() => Promise.reject(concurrent()), [20, 40], sleep),
    ).rejects.toThrow('concurrent');
    expect(slept).toEqual([20, 40]);
    expect(isConcurrentTransactions(null)).toBe(false);
    expect(isConcurrentTransactions(concurrent())).toBe(true);
  });
});
