'use client';
// The query's live charts: rates, batch duration against the trigger interval, lag per partition,
// and instances / rate limit over time. Progress events come from the parent (SSE); lag is polled.
import { useEffect, useMemo, useState } from 'react';
import useSWR from 'swr';
import { TimeChart, type ChartSeries } from '@/components/time-chart';
import { api, fetcher } from '@/lib/client-api';
import type { Lag, Progress, Version } from './types';

const LAG_SAMPLES = 150;

interface LagSample {
  t: number;
  byPartition: Map<string, { records: number; seconds: number | null }>;
}

export function LiveCharts({ id, events, version }: { id: string; events: Progress[]; version: number }) {
  const lag = useSWR<Lag>(`/api/cp/queries/${id}/lag`, fetcher, { refreshInterval: 2000 });
  const [lagHistory, setLagHistory] = useState<LagSample[]>([]);
  useEffect(() => {
    if (!lag.data) return;
    const sample: LagSample = {
      t: Date.now() / 1000,
      byPartition: new Map(
        lag.data.partitions.map((p) => [
          `${p.topic}:${p.partition}`,
          { records: p.recordsBehind, seconds: p.secondsBehind },
        ]),
      ),
    };
    setLagHistory((h) => [...h.slice(-(LAG_SAMPLES - 1)), sample]);
  }, [lag.data]);

  const trigger = useTriggerMs(id, version);
  const charts = useMemo(() => progressCharts(events, trigger), [events, trigger]);
  const lagCharts = useMemo(() => {
    const names = [...new Set(lagHistory.flatMap((s) => [...s.byPartition.keys()]))].sort().slice(0, 16);
    const x = lagHistory.map((s) => s.t);
    return {
      x,
      records: names.map((n) => ({
        label: n,
        values: lagHistory.map((s) => s.byPartition.get(n)?.records ?? null),
      })),
      seconds: names.map((n) => ({
        label: n,
        values: lagHistory.map((s) => s.byPartition.get(n)?.seconds ?? null),
      })),
    };
  }, [lagHistory]);

  return (
    <section aria-labelledby="charts-h">
      <h2 id="charts-h">Live</h2>
      <div className="grid2">
        <TimeChart
          title="Rows per second"
          yLabel="rows/s"
          x={charts.x}
          series={charts.rates}
          testId="chart-rates"
        />
        <TimeChart
          title="Batch duration vs trigger interval"
          yLabel="ms"
          x={charts.x}
          series={charts.durations}
          testId="chart-batch"
        />
        <TimeChart
          title="Lag per partition (records)"
          yLabel="records"
          x={lagCharts.x}
          series={lagCharts.records}
          testId="chart-lag-records"
        />
        <TimeChart
          title="Lag per partition (seconds)"
          yLabel="s"
          x={lagCharts.x}
          series={lagCharts.seconds}
          testId="chart-lag-seconds"
        />
        <TimeChart
          title="Instances and rate limit"
          yLabel="instances"
          x={charts.x}
          series={charts.scale}
          testId="chart-scale"
        />
      </div>
    </section>
  );
}

/** The desired version's trigger interval, from the spec compiled by /api/plan. */
function useTriggerMs(id: string, version: number): number | null {
  const versions = useSWR<Version[]>(`/api/cp/queries/${id}/versions`, fetcher, { revalidateOnFocus: false });
  const spec = versions.data?.find((v) => v.version === version)?.specText ?? null;
  const plan = useSWR(spec ? ['plan', spec] : null, ([, text]: [string, string]) =>
    api<{ ok: boolean; trigger?: { processingTimeMs?: number } }>('/api/plan', { method: 'POST', text }),
  );
  return plan.data?.trigger?.processingTimeMs ?? null;
}

/**
 * Series from progress events of all instances: at each event, the query's rate is the sum of the
 * newest rate of every instance heard from in the last 30 s.
 */
function progressCharts(events: Progress[], triggerMs: number | null) {
  const latest = new Map<string, Progress>();
  const x: number[] = [];
  const input: number[] = [];
  const processed: number[] = [];
  const duration: (number | null)[] = [];
  const trigger: (number | null)[] = [];
  const instances: (number | null)[] = [];
  const rateLimit: (number | null)[] = [];
  let lastT = -Infinity;
  for (const e of events) {
    const t = Date.parse(e.timestamp);
    if (!Number.isFinite(t) || t < lastT) continue; // uPlot wants x ascending
    lastT = t;
    latest.set(e.sluice?.instance ?? '', e);
    let i = 0;
    let p = 0;
    for (const [k, v] of latest) {
      if (t - Date.parse(v.timestamp) > 30_000) {
        latest.delete(k);
        continue;
      }
      i += v.inputRowsPerSecond ?? 0;
      p += v.processedRowsPerSecond ?? 0;
    }
    x.push(t / 1000);
    input.push(i);
    processed.push(p);
    duration.push(e.batchDuration ?? e.durationMs?.triggerExecution ?? null);
    trigger.push(triggerMs);
    instances.push(e.sluice?.instances ?? latest.size);
    rateLimit.push(e.sluice?.rateLimit ?? null);
  }
  const rates: ChartSeries[] = [
    { label: 'input rows/s', values: input },
    { label: 'processed rows/s', values: processed },
  ];
  const durations: ChartSeries[] = [
    { label: 'batch duration (ms)', values: duration },
    { label: 'trigger interval (ms)', values: trigger, dash: true },
  ];
  const scale: ChartSeries[] = [
    { label: 'instances', values: instances, stepped: true },
    { label: 'rate limit (offsets/trigger, right axis)', values: rateLimit, stepped: true, right: true },
  ];
  return { x, rates, durations, scale };
}
