// Sets a gauge's label sets from a full pass without resetting it. Label sets come in groups (a
// query's phases, a query's partitions) with a signature of their values: a group whose signature
// did not change since the last pass costs one map lookup, a changed group sets only what differs,
// and groups or label sets that disappeared are removed. The evaluator refreshed ~25,000 label
// sets per tick at 1,000 queries × 16 partitions; setting every one (after a reset()) was a large
// part of its profile, and a reset also let a scrape in between see an empty gauge. (The 16,000
// per-partition consumer statuses now have a cheaper metric of their own:
// metrics/consumer-status-metric.ts.)
//
// The groups and their entries are updated in place and marked with the pass that saw them (no
// new map per pass, no new group or entry object for a label set that stays): this runs on the
// API's event loop, and objects that live from one evaluation to the next are what its garbage
// collector copies and promotes (a changed group used to be rebuilt whole, ~8 MB a tick at
// 1,000 × 16 in bench:alerts; BENCHMARKS.md).
import type { Gauge } from 'prom-client';

type Labels<L extends string> = Partial<Record<L, string>>;
interface Entry<L extends string> {
  labels: Labels<L>;
  value: number;
  /** The last group update that listed this label set. */
  seen: number;
}
interface Group<L extends string> {
  signature: string;
  /** label-set key → labels and value */
  entries: Map<string, Entry<L>>;
  /** The last pass that recorded this group. */
  pass: number;
}

export class GaugeSync<L extends string> {
  private readonly groups = new Map<string, Group<L>>();
  /** The pass under way (groups recorded in it carry this number). */
  private pass = 1;
  /** Numbers each group update, so the entries it did not list can be told apart. */
  private update = 0;

  constructor(private readonly gauge: Gauge<L>) {}

  /**
   * Records a group's label sets for this pass. `signature` must change whenever any value or
   * label set of the group changes; `entries` is only called when it did.
   */
  group(key: string, signature: string, entries: () => Iterable<[string, Labels<L>, number]>): void {
    const g = this.groups.get(key);
    if (g && g.signature === signature) {
      g.pass = this.pass;
      return;
    }
    const update = ++this.update;
    const group = g ?? { signature, entries: new Map<string, Entry<L>>(), pass: this.pass };
    group.signature = signature;
    group.pass = this.pass;
    for (const [k, labels, value] of entries()) {
      const old = group.entries.get(k);
      if (!old) {
        this.gauge.set(labels, value);
        group.entries.set(k, { labels, value, seen: update });
        continue;
      }
      if (old.value !== value) {
        this.gauge.set(old.labels, value);
        old.value = value;
      }
      old.seen = update;
    }
    if (g) {
      for (const [k, e] of g.entries) {
        if (e.seen === update) continue;
        this.gauge.remove(e.labels);
        g.entries.delete(k);
      }
    } else this.groups.set(key, group);
  }

  /** One label set as a group of its own. */
  set(key: string, labels: Labels<L>, value: number): void {
    // The common case, an unchanged value, without building the signature's string.
    const g = this.groups.get(key);
    if (g && g.entries.size === 1 && g.entries.get(key)?.value === value) {
      g.pass = this.pass;
      return;
    }
    this.group(key, String(value), () => [[key, labels, value]]);
  }

  /** Ends a pass: groups not seen in it are removed from the gauge. */
  commit(): void {
    for (const [key, g] of this.groups) {
      if (g.pass === this.pass) continue;
      for (const e of g.entries.values()) this.gauge.remove(e.labels);
      this.groups.delete(key);
    }
    this.pass++;
  }

  /** Drops everything (a follower exports none of the leader's gauges). */
  clear(): void {
    this.gauge.reset();
    this.groups.clear();
  }
}
