// Event-time watermark with Spark's semantics (WatermarkTracker, MultipleWatermarkPolicy "min"):
// - during a batch, each source with a watermark records the max event time it saw;
// - only between batches does the watermark move: per source, max event time − delay, never
//   backwards; the query watermark is the minimum across sources that have seen data;
// - the batch evaluates late-data filters and state eviction against the watermark decided
//   before it started (recorded in the offset log so a replay uses the same value).

export interface WatermarkSpec {
  source: string;
  delayMs: number;
}

export interface WatermarkState {
  /** Highest event time observed per source, across all batches so far. */
  maxEventTimeMs: Record<string, number>;
  watermarkMs: number;
}

export class WatermarkTracker {
  private readonly maxSeen = new Map<string, number>();
  private readonly batchMax = new Map<string, number>();
  private current: number;

  constructor(
    private readonly specs: WatermarkSpec[],
    restored?: WatermarkState,
  ) {
    this.current = restored?.watermarkMs ?? 0;
    for (const [source, ms] of Object.entries(restored?.maxEventTimeMs ?? {})) this.maxSeen.set(source, ms);
  }

  /** The watermark in force for the running batch. */
  get watermarkMs(): number {
    return this.current;
  }

  get enabled(): boolean {
    return this.specs.length > 0;
  }

  observe(source: string, eventTimeMs: number): void {
    const prev = this.batchMax.get(source);
    if (prev === undefined || eventTimeMs > prev) this.batchMax.set(source, eventTimeMs);
  }

  /** Ends a batch: folds its observations in and computes the next batch's watermark. */
  advance(): number {
    for (const [source, ms] of this.batchMax) {
      const prev = this.maxSeen.get(source);
      if (prev === undefined || ms > prev) this.maxSeen.set(source, ms);
    }
    this.batchMax.clear();
    const candidates: number[] = [];
    for (const spec of this.specs) {
      const max = this.maxSeen.get(spec.source);
      if (max !== undefined) candidates.push(max - spec.delayMs);
    }
    if (candidates.length > 0) this.current = Math.max(this.current, Math.min(...candidates));
    return this.current;
  }

  /** Drops the running batch's observations (the batch failed and will be replayed). */
  discardBatch(): void {
    this.batchMax.clear();
  }

  state(): WatermarkState {
    return { maxEventTimeMs: Object.fromEntries(this.maxSeen), watermarkMs: this.current };
  }
}
