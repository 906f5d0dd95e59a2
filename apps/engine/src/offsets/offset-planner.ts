// Pure planning of one micro-batch's offset ranges for the source partitions an instance owns,
// following Spark's Kafka source (KafkaMicroBatchStream):
// - maxOffsetsPerTrigger is split across partitions in proportion to their backlog; a share
//   below one offset rounds up so that small partitions are never starved;
// - minOffsetsPerTrigger delays the batch until enough offsets are available or
//   maxTriggerDelay has passed since the last batch;
// - offsets that vanished (retention, topic re-created) fail the query when failOnDataLoss is
//   true, or are skipped and counted when it is false.

export interface PartitionPosition {
  topic: string;
  partition: number;
  /** Where the next batch starts (end of the last batch, or the starting offset). */
  start: number;
  /** Earliest offset still in the log. */
  earliest: number;
  /** Latest offset (log end, or last stable offset for read_committed). */
  latest: number;
}

export interface PlannedRange {
  topic: string;
  partition: number;
  start: number;
  end: number;
}

export interface RateLimits {
  maxOffsetsPerTrigger?: number | null;
  minOffsetsPerTrigger?: number | null;
  maxTriggerDelayMs: number;
}

export interface DataLossEvent {
  topic: string;
  partition: number;
  /** Offsets that can no longer be read. */
  lostOffsets: number;
  message: string;
}

export type BatchPlan =
  | { kind: 'run'; ranges: PlannedRange[]; dataLoss: DataLossEvent[]; triggeredAtMs: number }
  | { kind: 'delay'; available: number; dataLoss: DataLossEvent[] };

export class DataLossError extends Error {
  constructor(readonly events: DataLossEvent[]) {
    super(
      `${events.map((e) => e.message).join('; ')}. ` +
        'Refusing to continue because failOnDataLoss is true; set options.failOnDataLoss: false to skip the missing offsets instead.',
    );
    this.name = 'DataLossError';
  }
}

/** Moves starts that point at deleted or non-existent offsets to the earliest available one. */
export function resolveDataLoss(
  partitions: PartitionPosition[],
  failOnDataLoss: boolean,
): { positions: PartitionPosition[]; dataLoss: DataLossEvent[] } {
  const dataLoss: DataLossEvent[] = [];
  const positions = partitions.map((p) => {
    const where = `${p.topic}-${p.partition}`;
    if (p.start < p.earliest) {
      dataLoss.push({
        topic: p.topic,
        partition: p.partition,
        lostOffsets: p.earliest - p.start,
        message: `${where}: offsets ${p.start}..${p.earliest - 1} are no longer available (aged out or deleted before they were processed)`,
      });
      return { ...p, start: p.earliest };
    }
    if (p.start > p.latest) {
      dataLoss.push({
        topic: p.topic,
        partition: p.partition,
        lostOffsets: 0,
        message: `${where}: checkpointed offset ${p.start} is beyond the log end ${p.latest} (topic deleted and re-created?)`,
      });
      return { ...p, start: p.earliest };
    }
    return p;
  });
  if (failOnDataLoss && dataLoss.length > 0) throw new DataLossError(dataLoss);
  return { positions, dataLoss };
}

/** Spark's proportional rate limit: `limit` offsets split across partitions by backlog. */
export function prorate(positions: PartitionPosition[], limit: number): PlannedRange[] {
  const backlog = positions.map((p) => Math.max(0, p.latest - p.start));
  const total = backlog.reduce((a, b) => a + b, 0);
  return positions.map((p, i) => {
    const size = backlog[i] ?? 0;
    if (total < 1 || size === 0)
      return { topic: p.topic, partition: p.partition, start: p.start, end: p.latest };
    const share = limit * (size / total);
    const offsets = share < 1 ? Math.ceil(share) : Math.floor(share);
    return {
      topic: p.topic,
      partition: p.partition,
      start: p.start,
      end: Math.min(p.latest, p.start + offsets),
    };
  });
}

export interface PlanInput {
  positions: PartitionPosition[];
  limits: RateLimits;
  failOnDataLoss: boolean;
  nowMs: number;
  /** When the previous batch was triggered (0 before the first). */
  lastTriggerMs: number;
}

export function planBatch(input: PlanInput): BatchPlan {
  const { positions, dataLoss } = resolveDataLoss(input.positions, input.failOnDataLoss);
  const available = positions.reduce((sum, p) => sum + Math.max(0, p.latest - p.start), 0);
  const { maxOffsetsPerTrigger, minOffsetsPerTrigger, maxTriggerDelayMs } = input.limits;
  if (
    minOffsetsPerTrigger != null &&
    input.nowMs - input.lastTriggerMs < maxTriggerDelayMs &&
    available < minOffsetsPerTrigger
  ) {
    return { kind: 'delay', available, dataLoss };
  }
  const ranges =
    maxOffsetsPerTrigger != null
      ? prorate(positions, maxOffsetsPerTrigger)
      : positions.map((p) => ({ topic: p.topic, partition: p.partition, start: p.start, end: p.latest }));
  return { kind: 'run', ranges, dataLoss, triggeredAtMs: input.nowMs };
}

/** Kafka source metrics as Spark reports them: offsets behind latest per partition. */
export function offsetsBehindLatest(
  ends: PlannedRange[],
  latest: Map<string, number>,
): { min: number; max: number; avg: number } | undefined {
  const behind = ends.map((r) => (latest.get(`${r.topic}:${r.partition}`) ?? r.end) - r.end);
  if (behind.length === 0) return undefined;
  return {
    min: Math.min(...behind),
    max: Math.max(...behind),
    avg: behind.reduce((a, b) => a + b, 0) / behind.length,
  };
}
