import type { PartitionLag } from './lag.service';

/** A query's lag across its partitions: records behind summed, seconds of the most behind partition. */
export function lagTotals(partitions: readonly PartitionLag[]): {
  totalRecordsBehind: number;
  maxSecondsBehind: number | null;
} {
  return {
    totalRecordsBehind: partitions.reduce((n, p) => n + p.recordsBehind, 0),
    maxSecondsBehind: partitions.reduce<number | null>(
      (m, p) => (p.secondsBehind === null ? m : Math.max(m ?? 0, p.secondsBehind)),
      null,
    ),
  };
}
