// Builds a simulator profile from a query's recorded progress, for what-if runs on real traffic.
// The produce rate comes from the sources' latest offsets when the engine reported them (the true
// arrival rate, even while the query lagged); otherwise from rows read, which under-reads lag.
import type { Profile, RatePoint } from './profile';

/** One stored progress event (a row of "ProgressEvent" reduced to what replay needs). */
export interface RecordedProgress {
  timeMs: number;
  instance: string;
  numInputRows: number;
  batchDurationMs: number | null;
  /** Spark's `sources[].latestOffset` values (Kafka: {topic: {partition: offset}}). */
  latestOffsets: unknown[];
}

export interface ReplayDefaults {
  name: string;
  sloMaxLagSeconds: number;
  startupSeconds: number;
  rebalancePauseSeconds: number;
  bucketSeconds: number;
}

export function profileFromProgress(events: readonly RecordedProgress[], defaults: ReplayDefaults): Profile {
  if (events.length < 2) throw new Error('need at least two progress events to replay');
  const sorted = [...events].sort((a, b) => a.timeMs - b.timeMs);
  const start = (sorted[0] as RecordedProgress).timeMs;
  const end = (sorted[sorted.length - 1] as RecordedProgress).timeMs;
  const durationSeconds = Math.max(defaults.bucketSeconds, Math.ceil((end - start) / 1000));

  const endOffsets = new Map<string, number>();
  const offsetSeries: { t: number; total: number }[] = [];
  for (const e of sorted) {
    let changed = false;
    for (const latest of e.latestOffsets) {
      for (const [key, offset] of kafkaOffsets(latest)) {
        if (offset > (endOffsets.get(key) ?? -1)) {
          endOffsets.set(key, offset);
          changed = true;
        }
      }
    }
    if (changed) offsetSeries.push({ t: (e.timeMs - start) / 1000, total: sum(endOffsets.values()) });
  }
  const input =
    offsetSeries.length >= 2 && endOffsets.size > 0
      ? ratesFromOffsets(offsetSeries, defaults.bucketSeconds)
      : ratesFromRows(sorted, start, defaults.bucketSeconds);

  const perBatchRates = sorted
    .filter((e) => e.numInputRows > 0 && (e.batchDurationMs ?? 0) > 0)
    .map((e) => e.numInputRows / ((e.batchDurationMs as number) / 1000));
  const durations = sorted.map((e) => e.batchDurationMs ?? 0).filter((d) => d > 0);
  const partitions = Math.max(1, endOffsets.size);
  return {
    name: defaults.name,
    durationSeconds,
    partitions,
    instance: {
      // Big batches show the rate closest to capacity; small ones are dominated by overhead.
      capacity: Math.max(1, quantile(perBatchRates, 0.9) ?? 1000),
      startupSeconds: defaults.startupSeconds,
      rebalancePauseSeconds: defaults.rebalancePauseSeconds,
      minInstances: 1,
      maxInstances: partitions,
      batchOverheadSeconds: (quantile(durations, 0.05) ?? 500) / 1000,
      initialInstances: Math.min(partitions, new Set(sorted.slice(0, 20).map((e) => e.instance)).size),
    },
    triggerSeconds: triggerSeconds(sorted),
    slo: { maxLagSeconds: defaults.sloMaxLagSeconds },
    input,
    noise: { seed: 1, capacityJitter: 0.05 },
  };
}

function ratesFromOffsets(series: readonly { t: number; total: number }[], bucket: number): RatePoint[] {
  const points: RatePoint[] = [];
  let from = series[0] as { t: number; total: number };
  for (const p of series) {
    if (p.t - from.t < bucket) continue;
    points.push({ at: Math.round(from.t), rate: (p.total - from.total) / (p.t - from.t) });
    from = p;
  }
  return points.length > 0 ? points : [{ at: 0, rate: 0 }];
}

function ratesFromRows(events: readonly RecordedProgress[], start: number, bucket: number): RatePoint[] {
  const rows = new Map<number, number>();
  for (const e of events) {
    const b = Math.floor((e.timeMs - start) / 1000 / bucket);
    rows.set(b, (rows.get(b) ?? 0) + e.numInputRows);
  }
  const last = Math.max(...rows.keys());
  return Array.from({ length: last + 1 }, (_, b) => ({ at: b * bucket, rate: (rows.get(b) ?? 0) / bucket }));
}

/** Median gap between one instance's consecutive batches, rounded to a second (default 10 s). */
function triggerSeconds(events: readonly RecordedProgress[]): number {
  const lastByInstance = new Map<string, number>();
  const gaps: number[] = [];
  for (const e of events) {
    const prev = lastByInstance.get(e.instance);
    if (prev !== undefined && e.timeMs > prev) gaps.push((e.timeMs - prev) / 1000);
    lastByInstance.set(e.instance, e.timeMs);
  }
  return Math.max(1, Math.round(quantile(gaps, 0.5) ?? 10));
}

/** Flattens Kafka `{topic: {partition: offset}}` (object or its JSON text) to [topic/partition, offset]. */
export function kafkaOffsets(value: unknown): [string, number][] {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return [];
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  const out: [string, number][] = [];
  for (const [topic, partitions] of Object.entries(parsed)) {
    if (typeof partitions !== 'object' || partitions === null) continue;
    for (const [partition, offset] of Object.entries(partitions)) {
      if (typeof offset === 'number' && Number.isFinite(offset)) out.push([`${topic}/${partition}`, offset]);
    }
  }
  return out;
}

function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
