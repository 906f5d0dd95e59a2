// How a task's transactional producer waits out CONCURRENT_TRANSACTIONS. The transaction
// coordinator answers EndTxn once the commit is decided (PrepareCommit logged) and only then
// writes the commit markers to the output partitions; until they are written it refuses the
// task's next transaction (AddPartitionsToTxn, AddOffsetsToTxn) with CONCURRENT_TRANSACTIONS.
// Back-to-back batches (trigger 0) hit that window whenever the broker is slower than the
// engine between two batches, which a loaded machine makes common. The Java client retries
// AddPartitionsToTxn after 20 ms in that case (TransactionManager's ADD_PARTITIONS_RETRY_BACKOFF_MS);
// kafkajs's default retry waits 300 ms (± 20 %) first, which alone is six times the batch
// latency target, and it does not retry AddOffsetsToTxn at all (a batch with a marker and no
// records then failed).
import type { RetryOptions } from 'kafkajs';

/**
 * The retry of a task producer's sends (kafkajs applies a producer's `retry` to its send path,
 * where AddPartitionsToTxn and Produce are retried; InitProducerId and TxnOffsetCommit keep the
 * client's): 20 ms first, as the Java client, doubling up to 2 s. Twelve retries wait about
 * 12.5 s in all, no less than kafkajs's default (5 retries from 300 ms, about 9.3 s), so a send
 * still outwaits a broker that is briefly unavailable.
 */
export const TASK_PRODUCER_RETRY: Required<
  Pick<RetryOptions, 'initialRetryTime' | 'maxRetryTime' | 'retries'>
> = {
  initialRetryTime: 20,
  maxRetryTime: 2_000,
  retries: 12,
};

/** The waits before each retry of a schedule (without kafkajs's ± 20 % randomisation). */
export function retryDelaysMs(retry: typeof TASK_PRODUCER_RETRY): number[] {
  const delays: number[] = [];
  for (let i = 0; i < retry.retries; i++)
    delays.push(Math.min(retry.initialRetryTime * 2 ** i, retry.maxRetryTime));
  return delays;
}

export function isConcurrentTransactions(err: unknown): boolean {
  return (err as { type?: unknown } | null)?.type === 'CONCURRENT_TRANSACTIONS';
}

/**
 * Runs `work`, again after each delay while it fails with CONCURRENT_TRANSACTIONS (any other
 * error, or the last attempt's, is thrown). For the requests kafkajs does not retry itself.
 */
export async function retryConcurrentTransactions<T>(
  work: () => Promise<T>,
  delaysMs: readonly number[] = retryDelaysMs(TASK_PRODUCER_RETRY),
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !isConcurrentTransactions(err)) throw err;
      await sleep(delay);
    }
  }
}
