// `sluice_consumer_status{query,topic,partition}` without prom-client's per-series bookkeeping.
// At 1,000 queries × 16 partitions it is 16,000 series; setting them through a Gauge (a label
// hash per series) cost the evaluation that first saw every query's commit windows 30–95 ms of the
// API's event loop (bench:alerts, BENCHMARKS.md), and again whenever many statuses flip at once.
// The evaluator records each query's statuses as the compact signature its thread computed
// (`topic/partition=STATUS;…`); a query whose signature changed has its series rebuilt as plain
// value objects (no hashing), in the evaluator's sliced loop, and a scrape only concatenates
// them — formatting the text, the same work for a Gauge, stays the scrape's.
import { Gauge, type GaugeConfiguration } from 'prom-client';
import { CONSUMER_STATUS_VALUE, type PartitionStatus } from '@sluice/alerting';

export type ConsumerStatusLabel = 'query' | 'topic' | 'partition';
type Value = { value: number; labels: Partial<Record<ConsumerStatusLabel, string>> };

export class ConsumerStatusMetric extends Gauge<ConsumerStatusLabel> {
  /** query name → its signature, its series, its scope and the last pass of that scope that recorded it */
  private queries = new Map<string, { signature: string; values: Value[]; scope: number; pass: number }>();
  /**
   * The pass under way in each scope. A scope is one share of the evaluation (evaluation-shares.ts):
   * each share's passes record only its own queries, so a pass ends only its own scope's series.
   */
  private passes = new Map<number, number>();

  constructor(configuration: Omit<GaugeConfiguration<ConsumerStatusLabel>, 'labelNames' | 'collect'>) {
    super({ ...configuration, labelNames: ['query', 'topic', 'partition'] });
  }

  /** A query's statuses in `scope`'s pass under way; its series are rebuilt only if they changed. */
  record(query: string, signature: string, scope = 0): void {
    const pass = this.passes.get(scope) ?? 0;
    const q = this.queries.get(query);
    if (q && q.signature === signature && q.scope === scope) q.pass = pass;
    else this.queries.set(query, { signature, values: expand(query, signature), scope, pass });
  }

  /** Ends `scope`'s pass: the queries of that scope it did not record have no series any more. */
  commit(scope = 0): void {
    const pass = this.passes.get(scope) ?? 0;
    for (const [query, q] of this.queries)
      if (q.scope === scope && q.pass !== pass) this.queries.delete(query);
    this.passes.set(scope, pass + 1);
  }

  override async get(): ReturnType<Gauge<ConsumerStatusLabel>['get']> {
    const base = await super.get();
    const values = [...base.values];
    for (const q of this.queries.values()) for (const v of q.values) values.push(v);
    return { ...base, values };
  }

  // Also called by prom-client's constructor, before this class's fields exist: assigns, never reads.
  override reset(): void {
    super.reset();
    this.queries = new Map();
    this.passes = new Map();
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
