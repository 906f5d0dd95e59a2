// Spark Streaming's PID backpressure estimator, with the same arithmetic and the same edge cases,
// so a rate limit computed here matches what `spark.streaming.backpressure` would have chosen.
//
// The error is the gap between the rate chosen for the previous batch and the rate the batch was
// actually processed at; the integral term is not a running sum but the scheduling delay turned
// into a rate (records that waited because earlier batches overran), as in Spark.

export interface PidRateEstimatorOptions {
  /** Batch (trigger) interval in milliseconds; must be > 0. */
  batchIntervalMs: number;
  /** Weight of the current error; >= 0 (Spark default 1). */
  proportional?: number;
  /** Weight of the scheduling-delay ("historical") error; >= 0 (Spark default 0.2). */
  integral?: number;
  /** Weight of the error's rate of change; >= 0 (Spark default 0). */
  derivative?: number;
  /** Floor of every estimate in records/second; > 0 so some data always flows (Spark default 100). */
  minRate?: number;
}

export class PidRateEstimator {
  readonly batchIntervalMs: number;
  readonly proportional: number;
  readonly integral: number;
  readonly derivative: number;
  readonly minRate: number;

  private firstRun = true;
  private latestTime = -1;
  private latestRate = -1;
  private latestError = -1;

  constructor(options: PidRateEstimatorOptions) {
    const { batchIntervalMs, proportional = 1, integral = 0.2, derivative = 0, minRate = 100 } = options;
    // Same checks and order as Spark's `require`s; NaN fails every comparison, so it is rejected too.
    if (!(batchIntervalMs > 0)) {
      throw new RangeError(`Specified batch interval ${batchIntervalMs} in PidRateEstimator is invalid.`);
    }
    if (!(proportional >= 0)) {
      throw new RangeError(`Proportional term ${proportional} in PidRateEstimator should be >= 0.`);
    }
    if (!(integral >= 0))
      throw new RangeError(`Integral term ${integral} in PidRateEstimator should be >= 0.`);
    if (!(derivative >= 0)) {
      throw new RangeError(`Derivative term ${derivative} in PidRateEstimator should be >= 0.`);
    }
    if (!(minRate > 0)) throw new RangeError('Minimum rate in PidRateEstimator should be > 0');
    this.batchIntervalMs = batchIntervalMs;
    this.proportional = proportional;
    this.integral = integral;
    this.derivative = derivative;
    this.minRate = minRate;
  }

  /**
   * Feeds one completed batch and returns the new rate limit in records/second, or `undefined`
   * when Spark would not estimate: the first batch (it only seeds the state), a batch that is not
   * newer than the previous one, an empty batch, or one without a positive processing delay.
   */
  compute(
    timeMs: number,
    numElements: number,
    processingDelayMs: number,
    schedulingDelayMs: number,
  ): number | undefined {
    if (!(timeMs > this.latestTime && numElements > 0 && processingDelayMs > 0)) return undefined;

    // Seconds since the previous estimate; close to the batch interval in steady state.
    const delaySinceUpdate = (timeMs - this.latestTime) / 1000;
    const processingRate = (numElements / processingDelayMs) * 1000;
    // Desired rate = what we asked for last time; error = how far the batch fell short of it.
    const error = this.latestRate - processingRate;
    // Records that queued up behind overrunning batches, expressed as a rate over one interval.
    const historicalError = (schedulingDelayMs * processingRate) / this.batchIntervalMs;
    const dError = (error - this.latestError) / delaySinceUpdate;
    const newRate = Math.max(
      this.latestRate -
        this.proportional * error -
        this.integral * historicalError -
        this.derivative * dError,
      this.minRate,
    );

    this.latestTime = timeMs;
    if (this.firstRun) {
      this.latestRate = processingRate;
      this.latestError = 0;
      this.firstRun = false;
      return undefined;
    }
    this.latestRate = newRate;
    this.latestError = error;
    return newRate;
  }
}
