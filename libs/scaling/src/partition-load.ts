// Which share of the query's input the busiest instance must read at a given instance count, from
// the partitions' own produce rates (the slopes of their log-end offsets). Kafka assigns whole
// partitions, and hot partitions move: an assignment that spreads today's hot partitions may pair
// them after the next move. Sized for the worst pairing, a count does not depend on where the hot
// partitions happen to sit now.
import type { LagSample } from './types';

/**
 * Each partition's share of what was produced over the last `windowMs`, largest first; undefined
 * when the lag samples carry no per-partition offsets or nothing was produced.
 */
export function partitionShares(lag: readonly LagSample[], windowMs: number): number[] | undefined {
  const last = lag[lag.length - 1];
  const end = last?.partitionEndOffsets;
  if (!last || !end || end.length === 0) return undefined;
  let first: LagSample | undefined;
  for (const sample of lag) {
    if (sample.timeMs > last.timeMs - windowMs) break;
    first = sample;
  }
  const start = first?.partitionEndOffsets;
  if (!start || start.length !== end.length || first === last) return undefined;
  const produced = end.map((offset, p) => Math.max(0, offset - (start[p] as number)));
  const total = produced.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return undefined;
  return produced.map((n) => n / total).sort((a, b) => b - a);
}

/** A partition producing this many times the median partition's share is hot. */
const HOT_FACTOR = 1.5;

/**
 * Share of the input read by the busiest of `instances` when the ceil(P / n) partitions it owns
 * include as many of the hot partitions as they can (`shares` sorted largest first, as
 * partitionShares returns them). The other partitions count at their average share: their
 * differences are noise that moves from batch to batch, not a placement to be unlucky with.
 */
export function worstBusiestShare(shares: readonly number[], instances: number): number {
  const owned = Math.ceil(shares.length / Math.max(1, instances));
  const hot = hotShares(shares);
  const taken = hot.slice(0, owned);
  const takenShare = taken.reduce((a, b) => a + b, 0);
  const hotShare = hot.reduce((a, b) => a + b, 0);
  const others = shares.length - hot.length;
  const otherAverage = others > 0 ? (1 - hotShare) / others : 0;
  return takenShare + (owned - taken.length) * otherAverage;
}

/** The hot partitions' shares, largest first (empty when no partition stands out). */
export function hotShares(shares: readonly number[]): number[] {
  const median = shares[Math.floor(shares.length / 2)] ?? 0;
  return shares.filter((s) => s > HOT_FACTOR * median);
}
