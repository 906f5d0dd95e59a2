// `sluice_consumer_status{query,topic,partition}`, built when scraped. At 1,000 queries × 16
// partitions it is 16,000 series; setting them through prom-client's Gauge (label hashing per
// series) cost the evaluation that first saw every query's commit windows 30–95 ms of the API's
// event loop (bench:alerts, BENCHMARKS.md), and again whenever many statuses flip at once. The
// evaluator hands over each query's statuses as the compact signature its thread computed
// (`topic/partition=STATUS;…`, one string per query, unchanged strings shared) and a scrape expands
// them — the work prom-client would do at scrape time anyway (one value object per series), cached
// per query until its signature changes.
import { Gauge, type GaugeConfiguration } from 'prom-client';
import { CONSUMER_STATUS_VALUE, type PartitionStatus } from '@sluice/alerting';

export type ConsumerStatusLabel = 'query' | 'topic' | 'partition';
type Value = { value: number; labels: Partial<Record<ConsumerStatusLabel, string>> };

export class ConsumerStatusMetric extends Gauge<ConsumerStatusLabel> {
  /** query name → signature of its partitions' statuses (what the last evaluation reported) */
  private signatures: ReadonlyMap<string, string> = new Map();
  /** query name → its series, expanded from `signature` by an earlier scrape */
  private expanded = new Map<string, { signature: string; values: Value[] }>();

  constructor(configuration: Omit<GaugeConfiguration<ConsumerStatusLabel>, 'labelNames' | 'collect'>) {
    super({ ...configuration, labelNames: ['query', 'topic', 'partition'] });
  }

  /**
   * Every query's statuses as of one evaluation (query name → signature); a query left out has no
   * series. The map is kept as given: the caller must not change it afterwards.
   */
  replace(signatures: ReadonlyMap<string, string>): void {
    this.signatures = signatures;
  }

  override async get(): ReturnType<Gauge<ConsumerStatusLabel>['get']> {
    const base = await super.get();
    const values: Value[] = [];
    for (const [query, signature] of this.signatures) {
      let e = this.expanded.get(query);
      if (!e || e.signature !== signature) {
        e = { signature, values: expand(query, signature) };
        this.expanded.set(query, e);
      }
      for (const v of e.values) values.push(v);
    }
    for (const query of this.expanded.keys()) if (!this.signatures.has(query)) this.expanded.delete(query);
    return { ...base, values: [...base.values, ...values] };
  }

  // Also called by prom-client's constructor, before this class's fields exist: assigns, never reads.
  override reset(): void {
    super.reset();
    this.signatures = new Map();
    this.expanded = new Map();
  }
}

/** The series of one query from its signature (`topic/partition=STATUS;` per partition). */
export function expand(query: string, signature: string): Value[] {
  const out: Value[] = [];
  for (const item of signature.split(';')) {
    if (item === '') continue;
    // Kafka topic names hold neither '/' nor '=': the partition and the status are the last fields.
    const eq = item.lastIndexOf('=');
    const slash = item.lastIndexOf('/', eq);
    const status = item.slice(eq + 1) as PartitionStatus;
    const value = CONSUMER_STATUS_VALUE[status];
    if (slash < 0 || eq < 0 || value === undefined) continue;
    out.push({ value, labels: { query, topic: item.slice(0, slash), partition: item.slice(slash + 1, eq) } });
  }
  return out;
}
