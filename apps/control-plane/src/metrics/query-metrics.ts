// Query-level Prometheus metrics. Gauges are set from ingested progress, lag polls and reconcile
// passes; every series carries a `query` label (the query name).
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';

@Injectable()
export class QueryMetrics {
  readonly inputRowsPerSecond: Gauge<'query'>;
  readonly processedRowsPerSecond: Gauge<'query'>;
  readonly batchDuration: Histogram<'query'>;
  readonly lagRecords: Gauge<'query' | 'topic' | 'partition'>;
  readonly lagSeconds: Gauge<'query' | 'topic' | 'partition'>;
  readonly instances: Gauge<'query'>;
  readonly rateLimit: Gauge<'query'>;
  readonly stateRows: Gauge<'query'>;
  readonly operations: Counter<'type' | 'result'>;
  readonly progressEvents: Counter<'result'>;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.inputRowsPerSecond = new Gauge({
      name: 'sluice_query_input_rows_per_second',
      help: 'Input rate of the last batch (rows/s)',
      labelNames: ['query'],
      registers,
    });
    this.processedRowsPerSecond = new Gauge({
      name: 'sluice_query_processed_rows_per_second',
      help: 'Processing rate of the last batch (rows/s)',
      labelNames: ['query'],
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'sluice_query_batch_duration_seconds',
      help: 'Micro-batch duration',
      labelNames: ['query'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.lagRecords = new Gauge({
      name: 'sluice_query_lag_records',
      help: 'Records between the committed offset and the log end',
      labelNames: ['query', 'topic', 'partition'],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'sluice_query_lag_seconds',
      help: 'Estimated time the committed offset is behind the log end',
      labelNames: ['query', 'topic', 'partition'],
      registers,
    });
    this.instances = new Gauge({
      name: 'sluice_query_instances',
      help: 'Running engine instances',
      labelNames: ['query'],
      registers,
    });
    this.rateLimit = new Gauge({
      name: 'sluice_query_rate_limit',
      help: 'maxOffsetsPerTrigger in force (0 = unlimited)',
      labelNames: ['query'],
      registers,
    });
    this.stateRows = new Gauge({
      name: 'sluice_query_state_rows',
      help: 'Rows held in state stores',
      labelNames: ['query'],
      registers,
    });
    this.operations = new Counter({
      name: 'sluice_operations_total',
      help: 'Finished operations',
      labelNames: ['type', 'result'],
      registers,
    });
    this.progressEvents = new Counter({
      name: 'sluice_progress_events_total',
      help: 'Progress events ingested',
      labelNames: ['result'],
      registers,
    });
  }

  forget(query: string): void {
    for (const m of [
      this.inputRowsPerSecond,
      this.processedRowsPerSecond,
      this.instances,
      this.rateLimit,
      this.stateRows,
    ])
      m.remove({ query });
  }
}
