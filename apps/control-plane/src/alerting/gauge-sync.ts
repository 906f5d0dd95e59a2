// Sets a gauge's label sets from a full pass without resetting it. Label sets come in groups (a
// query's phases, a query's partitions) with a signature of their values: a group whose signature
// did not change since the last pass costs one map lookup, a changed group sets only what differs,
// and groups or label sets that disappeared are removed. The evaluator refreshes ~25,000 label
// sets per tick at 1,000 queries × 16 partitions; setting every one (after a reset()) was a large
// part of its profile, and a reset also let a scrape in between see an empty gauge.
import type { Gauge } from 'prom-client';

type Labels<L extends string> = Partial<Record<L, string>>;
interface Group<L extends string> {
  signature: string;
  /** label-set key → labels and value */
  entries: Map<string, { labels: Labels<L>; value: number }>;
}

export class GaugeSync<L extends string> {
  private previous = new Map<string, Group<L>>();
  private current = new Map<string, Group<L>>();

  constructor(private readonly gauge: Gauge<L>) {}

  /**
   * Records a group's label sets for this pass. `signature` must change whenever any value or
   * label set of the group changes; `entries` is only called when it did.
   */
  group(key: string, signature: string, entries: () => Iterable<[string, Labels<L>, number]>): void {
    const before = this.previous.get(key);
    if (before && before.signature === signature) {
      this.current.set(key, before);
      return;
    }
    const next: Group<L> = { signature, entries: new Map() };
    for (const [k, labels, value] of entries()) {
      const old = before?.entries.get(k);
      if (!old || old.value !== value) this.gauge.set(labels, value);
      next.entries.set(k, { labels, value });
    }
    if (before) for (const [k, v] of before.entries) if (!next.entries.has(k)) this.gauge.remove(v.labels);
    this.current.set(key, next);
  }

  /** One label set as a group of its own. */
  set(key: string, labels: Labels<L>, value: number): void {
    this.group(key, String(value), () => [[key, labels, value]]);
  }

  /** Ends a pass: groups not seen in it are removed from the gauge. */
  commit(): void {
    for (const [key, g] of this.previous) {
      if (this.current.has(key)) continue;
      for (const v of g.entries.values()) this.gauge.remove(v.labels);
    }
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
