// Kafka assigns whole partitions to instances, so the busiest instance owns ceil(P / N) of them and
// paces the whole query. Adding an instance only helps when it lowers that number: with 48
// partitions, 13 instances are as fast as 12 (both leave someone with 4) and cost more.

/** Partitions owned by the busiest instance when `partitions` are spread over `instances`. */
export function busiestShare(partitions: number, instances: number): number {
  return Math.ceil(partitions / Math.max(1, instances));
}

/**
 * Throughput of `instances` relative to one instance, assuming equal partition rates: the busiest
 * instance saturates first, so N instances behave like P / ceil(P / N) of them.
 */
export function effectiveInstances(partitions: number, instances: number): number {
  if (instances <= 0) return 0;
  return partitions / busiestShare(partitions, instances);
}

/**
 * The smallest instance count for every distinct busiest-share value within [min, max]: the only
 * counts worth paying for. Ascending.
 */
export function alignedInstanceCounts(partitions: number, min: number, max: number): number[] {
  const counts: number[] = [];
  let previousShare = Number.POSITIVE_INFINITY;
  for (let n = 1; n <= Math.min(max, partitions); n++) {
    const share = busiestShare(partitions, n);
    if (share < previousShare && n >= min) counts.push(n);
    previousShare = share;
  }
  // `min` itself is always allowed even when it is not aligned (the user asked for it).
  if (min <= Math.min(max, partitions) && !counts.includes(min)) counts.unshift(min);
  return counts;
}

/** Whether `instances` is the cheapest count giving its busiest share (no wasted instance). */
export function isAligned(partitions: number, instances: number): boolean {
  return instances <= 1 || busiestShare(partitions, instances - 1) > busiestShare(partitions, instances);
}
