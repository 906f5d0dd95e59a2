// How much of a query-wide read cap (`rateLimit`, records per trigger) one engine instance takes.
// One source of truth for the engine (apps/engine trigger-planner.ts) and the simulator
// (simulator/engine-group.ts), so the simulated split is the one the engines run.
//
// Spark splits `maxOffsetsPerTrigger` across partitions in proportion to each partition's
// available offsets (apache/spark, external/kafka-0-10-sql/.../KafkaMicroBatchStream.scala,
// `rateLimit`: `prorate = limit * (size / total)`). The engine already does that across the
// partitions of one instance (offset-planner.ts `prorate`); this does it across instances: an
// instance's share is its partitions' backlog over the whole topic's backlog. Splitting by
// partition count instead gives a hot partition only its instance's even share, so it falls
// behind at any instance count under a tight cap (ARCHITECTURE.md, autoscaling).

export interface ReadShareInput {
  /** The query-wide cap in records per trigger; null/undefined = no cap. */
  limit: number | null | undefined;
  /** Source partitions this instance owns. */
  ownedPartitions: number;
  /** Source partitions of the whole query (all topics). */
  totalPartitions: number;
  /** Records behind on this instance's partitions; undefined = unknown. */
  ownedBacklog?: number;
  /** Records behind on all partitions of the query; undefined = unknown. */
  totalBacklog?: number;
}

function assertCount(value: number, name: string): void {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
}

const known = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n) && n >= 0;

/**
 * This instance's cap in records per trigger (null = uncapped). By backlog when the total backlog
 * is known and positive, else the even share by partition count.
 *
 * Rounding: each share is floored, so the shares of instances that saw the same backlog sum to at
 * most the cap; a share that floors to 0 is raised to 1 (never starve an instance, as Spark rounds
 * a partition's share below 1 up), so the sum can exceed the cap by at most the number of
 * instances whose share is below one record.
 */
export function instanceReadShare(input: ReadShareInput): number | null {
  const { limit, ownedPartitions, totalPartitions } = input;
  if (limit == null) return null;
  assertCount(limit, 'rate limit');
  assertCount(ownedPartitions, 'owned partitions');
  assertCount(totalPartitions, 'total partitions');
  if (totalPartitions <= 0 || ownedPartitions >= totalPartitions) return limit;
  let fraction = ownedPartitions / totalPartitions;
  const { ownedBacklog, totalBacklog } = input;
  if (known(ownedBacklog) && known(totalBacklog) && totalBacklog > 0)
    // A snapshot where the owned part exceeds the whole (read at different moments) counts as all.
    fraction = Math.min(ownedBacklog, totalBacklog) / totalBacklog;
  return Math.min(limit, Math.max(1, Math.floor(limit * fraction)));
}
