// Metrics of the built-in alerting, named in @sluice/alerting METRIC (rule-definitions.ts) so the
// generated PrometheusRule and Grafana panels find them. The per-query gauges are set by the
// evaluator, which only the leader runs: on a follower they are absent, and `max by (query)`
// across replicas reads the leader's.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { METRIC } from '@sluice/alerting';
import { ConsumerStatusMetric } from './consumer-status-metric';
import { MetricsRegistry } from './metrics.registry';

@Injectable()
export class AlertMetrics {
  readonly alerts: Gauge<'state' | 'rule' | 'query'>;
  readonly notifications: Counter<'receiver' | 'outcome'>;
  /** Recorded per evaluation as one signature per query, without label hashing (consumer-status-metric.ts). */
  readonly consumerStatus: ConsumerStatusMetric;
  readonly queryPhase: Gauge<'query' | 'phase'>;
  readonly recentCrashes: Gauge<'query'>;
  readonly lastProgress: Gauge<'query'>;
  readonly evaluationSeconds: Histogram;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.alerts = new Gauge({
      name: METRIC.alerts,
      help: 'Alerts known to the built-in evaluator (1 per alert) by state (pending, firing, resolved)',
      labelNames: ['state', 'rule', 'query'],
      registers,
    });
    this.notifications = new Counter({
      name: METRIC.notifications,
      help: 'Notification delivery attempts by outcome (delivered, retry, failed, skipped)',
      labelNames: ['receiver', 'outcome'],
      registers,
    });
    this.consumerStatus = new ConsumerStatusMetric({
      name: METRIC.consumerStatus,
      help: "Burrow's status of the query's consumer per partition: 1 OK, 2 WARNING, 4 STOP, 5 STALL, 6 REWIND",
      registers,
    });
    this.queryPhase = new Gauge({
      name: METRIC.queryPhase,
      help: "1 for the query's current phase, 0 for the others",
      labelNames: ['query', 'phase'],
      registers,
    });
    this.recentCrashes = new Gauge({
      name: METRIC.recentCrashes,
      help: "Abnormal exits in the reconciler's crash window",
      labelNames: ['query'],
      registers,
    });
    this.lastProgress = new Gauge({
      name: METRIC.lastProgress,
      help: 'Unix time of the last progress event of the query',
      labelNames: ['query'],
      registers,
    });
    this.evaluationSeconds = new Histogram({
      name: 'sluice_alert_evaluation_duration_seconds',
      help: 'Duration of one evaluation pass: every alert rule over one share of the queries (SLUICE_ALERT_EVAL_SHARES)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
  }
}
