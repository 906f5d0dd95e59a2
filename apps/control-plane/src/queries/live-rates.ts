// Rates of a query from its newest progress events (pure, unit-tested).
import type { RateEvent } from '../repositories/live-figures.repository';

/** An instance whose newest event is this much older than the query's newest has gone (scale-in). */
export const STALE_INSTANCE_MS = 30_000;

/**
 * Input and processed rows/s of a query with several instances: the newest event of each instance,
 * summed, leaving out instances gone quiet. Null when the query has reported no progress.
 */
export function sumRates(
  events: readonly RateEvent[],
  staleMs = STALE_INSTANCE_MS,
): { input: number; processed: number; atMs: number } | null {
  if (events.length === 0) return null;
  const newest = new Map<string, RateEvent>();
  for (const e of events) {
    const key = e.instance ?? '';
    const seen = newest.get(key);
    if (!seen || seen.atMs < e.atMs) newest.set(key, e);
  }
  const latest = Math.max(...[...newest.values()].map((e) => e.atMs));
  let input = 0;
  let processed = 0;
  for (const e of newest.values()) {
    if (latest - e.atMs > staleMs) continue;
    input += e.input ?? 0;
    processed += e.processed ?? 0;
  }
  return { input, processed, atMs: latest };
}
