// The contract between a control loop (live or simulated) and a scaling policy. Policies are pure
// decision logic: they see aggregated progress and Kafka lag, never engines or databases.

/**
 * One aggregated progress sample: every engine instance's micro-batches that started in the same
 * trigger interval, folded into one record (rows summed, the slowest batch's duration).
 */
export interface ProgressSample {
  /** When the last batch of the interval completed (ms). */
  timeMs: number;
  /** Rows read by the interval's batches, per second of trigger interval. */
  inputRowsPerSecond: number;
  /** Sum over instances of rows / busy time: what the query processes while busy. */
  processedRowsPerSecond: number;
  /**
   * Duration of the slowest batch of the interval (ms); it bounds how fresh the output is. Live,
   * with the engine's reported work outside its triggers added (aggregate-progress.ts).
   */
  batchDurationMs: number;
  /** Rows processed by the interval's batches, all instances together. */
  numInputRows: number;
  /**
   * Rows of the interval's slowest batch: what the instance that paced the interval read itself
   * (each engine reports its own batches). With hot partitions it is not the even share.
   */
  slowestBatchRows?: number;
  /** Trigger interval the engines run with (ms). */
  triggerMs: number;
  /** Engine instances that were consuming when the interval's batches ran. */
  instances?: number;
  /** Total busy time of all instances' batches in the interval (ms), outside work included. */
  busyMs?: number;
  /** Largest delay between a batch's trigger time and its actual start (ms). */
  schedulingDelayMs?: number;
  /**
   * The fewest batches with rows any process behind the interval's batches had run, these
   * included (1: one of them is a new process's first). Absent when no batch reports it.
   */
  minProcessRowBatches?: number;
  /**
   * How many of the interval's batches were their process's first with rows (a count of 1): new
   * processes starting to read. Absent when no batch reports the count.
   */
  firstBatches?: number;
}

/** Consumer lag of the query's group, measured at one instant. */
export interface LagSample {
  timeMs: number;
  /** Sum over partitions of log-end offset minus committed offset. */
  records: number;
  /** Age of the oldest record not yet committed (s). */
  seconds: number;
  /** Sum of log-end offsets, when known: its slope is the true produce rate. */
  endOffsets?: number;
  /** Log-end offset of every partition, when known: their slopes say which partitions are hot. */
  partitionEndOffsets?: readonly number[];
}

export interface ScalingLimits {
  minInstances: number;
  maxInstances: number;
  /** Partitions of the source topic(s); more instances than this would sit idle. */
  partitions: number;
}

/**
 * How the consumer group places partitions on its members, when the control plane knows it:
 * 'range' places them by index (each member one block of consecutive partitions; Kafka's
 * RangeAssignor, the default of eager groups); 'other' (sticky, round-robin over member ids) depends
 * on history or member ids the policy does not see. The live engines use a sticky assignor
 * (apps/engine sticky-assigner.ts), so the live loop leaves it unset.
 */
export type PartitionAssignor = 'range' | 'other';

export interface ScalingInput {
  nowMs: number;
  /** Aggregated progress, oldest first; the window length is the control loop's choice. */
  samples: readonly ProgressSample[];
  /** Lag history, oldest first; the last entry is the current lag. */
  lag: readonly LagSample[];
  /** Instances the query is currently scaled to (the last applied target). */
  currentInstances: number;
  /** Instances that are up and consuming; lower than `currentInstances` while new ones start. */
  readyInstances?: number;
  limits: ScalingLimits;
  /** Lag objective the query should stay under, when the user set one (s). */
  sloMaxLagSeconds?: number;
  /** The group's partition assignor, when known (a consumer setting of the query's engines). */
  assignor?: PartitionAssignor;
}

export type DecisionInputs = Record<string, number | string | boolean | null>;

export interface ScalingDecision {
  /** Target instance count; equal to `currentInstances` means "no action". */
  instances: number;
  /** Cap on the query's total read rate (records/s); undefined = no cap from the policy. */
  rateLimit?: number;
  /** Human-readable why, recorded with the decision. */
  reason: string;
  /** The numbers the decision was based on, recorded for audit and debugging. */
  inputs: DecisionInputs;
}

/** A stateful policy instance serves one query; `decide` is called on every control tick. */
export interface ScalingPolicy {
  readonly name: string;
  /**
   * How the real system applies a new instance count: 'incremental' (default) starts or stops
   * only the difference; 'full' restarts every instance (Flink's rescale restarts the job).
   */
  readonly restartMode?: 'full' | 'incremental';
  decide(input: ScalingInput): ScalingDecision;
}
