// Which share of the query's input the busiest instance must read at a given instance count, from
// the partitions' own produce rates (the slopes of their log-end offsets). Kafka assigns whole
// partitions, and hot partitions move: an assignment that spreads today's hot partitions may pair
// them after the next move. Sized for the worst pairing, a count does not depend on where the hot
// partitions happen to sit now. When the group's assignor places partitions by index (a range
// assignor, as eager Kafka groups use by default), where today's hot partitions would sit at a count
// is known instead (rangeBusiestShare): the pairing is then priced as it is, and a move that pairs
// them later is seen (the shares move within PARTITION_SHARE_WINDOW) and reacted to.
import type { LagSample, PartitionAssignor } from './types';

/**
 * Each partition's share of what was produced over the last `windowMs`, largest first; undefined
 * when the lag samples carry no per-partition offsets or nothing was produced.
 */
export function partitionShares(lag: readonly LagSample[], windowMs: number): number[] | undefined {
  return partitionSharesByIndex(lag, windowMs)?.sort((a, b) => b - a);
}

/** Each partition's share of what was produced over the last `windowMs`, by partition index. */
export function partitionSharesByIndex(lag: readonly LagSample[], windowMs: number): number[] | undefined {
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
  return produced.map((n) => n / total);
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

/**
 * Share of the input read by the busiest of `instances` under an assignor that places partitions
 * by index, for the partitions' shares by index (partitionSharesByIndex); undefined when that
 * placement is not known at this count. Only counts that divide the partition count are known:
 * there every range-style assignor (Kafka's RangeAssignor, the simulator's eager one) gives each
 * instance one block of P / n consecutive partitions, whichever member gets which block; at other
 * counts assignors differ in where the larger blocks go. Partitions that are not hot count at
 * their average share, as in worstBusiestShare (their differences are noise that moves).
 */
export function rangeBusiestShare(
  sharesByIndex: readonly number[],
  instances: number,
  assignor: PartitionAssignor | undefined,
): number | undefined {
  const P = sharesByIndex.length;
  const n = Math.max(1, Math.min(instances, P));
  if (assignor !== 'range' || P === 0 || P % n !== 0) return undefined;
  const sorted = [...sharesByIndex].sort((a, b) => b - a);
  const hot = hotShares(sorted);
  const threshold = hot.length > 0 ? (hot[hot.length - 1] as number) : Number.POSITIVE_INFINITY;
  const hotShare = hot.reduce((a, b) => a + b, 0);
  const others = P - hot.length;
  const otherAverage = others > 0 ? (1 - hotShare) / others : 0;
  const block = P / n;
  let busiest = 0;
  for (let k = 0; k < n; k++) {
    let share = 0;
    for (let p = k * block; p < (k + 1) * block; p++) {
      const s = sharesByIndex[p] as number;
      share += s >= threshold ? s : otherAverage;
    }
    busiest = Math.max(busiest, share);
  }
  return busiest;
}
