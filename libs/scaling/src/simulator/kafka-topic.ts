// The source topic: per-partition produced and committed offsets. Records are whole numbers and
// are never dropped: whatever is not committed stays in the topic. Production history is kept per
// second so the time lag (age of the oldest uncommitted record) can be computed exactly.

export class KafkaTopic {
  readonly partitions: number;
  readonly produced: Float64Array;
  readonly committed: Float64Array;
  producedTotal = 0;
  private readonly weights: Float64Array;
  private readonly carry: Float64Array;
  /** history[p][s] = produced offset of partition p at second s. */
  private readonly history: Float64Array[];
  private readonly cursor: Int32Array;
  private recordedSeconds = 0;

  constructor(weights: readonly number[], durationSeconds: number) {
    this.partitions = weights.length;
    const total = weights.reduce((a, b) => a + b, 0);
    this.weights = Float64Array.from(weights, (w) => w / total);
    this.produced = new Float64Array(this.partitions);
    this.committed = new Float64Array(this.partitions);
    this.carry = new Float64Array(this.partitions);
    this.history = weights.map(() => new Float64Array(Math.ceil(durationSeconds) + 2));
    this.cursor = new Int32Array(this.partitions);
  }

  /** New relative partition weights from now on (hot partitions moving). */
  setWeights(weights: readonly number[]): void {
    if (weights.length !== this.partitions) throw new RangeError('one weight per partition');
    const total = weights.reduce((a, b) => a + b, 0);
    weights.forEach((w, p) => (this.weights[p] = w / total));
  }

  /** Appends `rate * dt` records spread by partition weight, carrying fractions forward. */
  produce(rate: number, dt: number): void {
    for (let p = 0; p < this.partitions; p++) {
      const c = (this.carry[p] as number) + rate * (this.weights[p] as number) * dt;
      const n = Math.floor(c);
      this.carry[p] = c - n;
      this.produced[p] = (this.produced[p] as number) + n;
      this.producedTotal += n;
    }
  }

  commit(partition: number, records: number): void {
    this.committed[partition] = (this.committed[partition] as number) + records;
  }

  available(partition: number): number {
    return (this.produced[partition] as number) - (this.committed[partition] as number);
  }

  lagRecords(): number {
    let lag = 0;
    for (let p = 0; p < this.partitions; p++) lag += this.available(p);
    return lag;
  }

  /** Snapshot of produced offsets at whole second `s` (call once per second, in order). */
  recordSecond(s: number): void {
    for (let p = 0; p < this.partitions; p++)
      (this.history[p] as Float64Array)[s] = this.produced[p] as number;
    this.recordedSeconds = s;
  }

  /** Age in seconds of the oldest uncommitted record at the last recorded second. */
  timeLagSeconds(): number {
    const now = this.recordedSeconds;
    let worst = 0;
    for (let p = 0; p < this.partitions; p++) {
      const committed = this.committed[p] as number;
      if (committed >= (this.produced[p] as number)) continue;
      const h = this.history[p] as Float64Array;
      // Committed offsets only grow, so the search resumes where it last stopped.
      let s = this.cursor[p] as number;
      while (s < now && (h[s + 1] as number) <= committed) s++;
      this.cursor[p] = s;
      // Record `committed` was produced during (s, s + 1]; interpolate within that second.
      const from = h[s] as number;
      const to = h[s + 1] as number;
      const producedAt = to > from ? s + (committed - from) / (to - from) : s;
      worst = Math.max(worst, now - producedAt);
    }
    return worst;
  }
}
