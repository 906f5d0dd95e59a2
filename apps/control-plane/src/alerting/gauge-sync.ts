// Sets a gauge's label sets from a full pass without resetting it: only values that changed are
// set and only label sets that disappeared are removed. The evaluator refreshes ~25,000 label sets
// per tick at 1,000 queries × 16 partitions; setting every one (and reset() + re-create) was a
// visible part of its profile, and a reset also let a scrape in between see an empty gauge.
import type { Gauge } from 'prom-client';

export class GaugeSync<L extends string> {
  private previous = new Map<string, { labels: Partial<Record<L, string>>; value: number }>();
  private current = new Map<string, { labels: Partial<Record<L, string>>; value: number }>();

  constructor(private readonly gauge: Gauge<L>) {}

  /** Records a label set's value for this pass; writes the gauge only when it changed. */
  set(key: string, labels: Partial<Record<L, string>>, value: number): void {
    const before = this.previous.get(key);
    if (!before || before.value !== value) this.gauge.set(labels, value);
    this.current.set(key, { labels, value });
  }

  /** Ends a pass: label sets not seen in it are removed from the gauge. */
  commit(): void {
    for (const [key, v] of this.previous) if (!this.current.has(key)) this.gauge.remove(v.labels);
    this.previous = this.current;
    this.current = new Map();
  }

  /** Drops everything (a follower exports none of the leader's gauges). */
  clear(): void {
    this.gauge.reset();
    this.previous.clear();
    this.current.clear();
  }
}
