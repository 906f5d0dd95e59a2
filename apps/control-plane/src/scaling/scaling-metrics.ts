// Prometheus series of the live scaling loop, in the app's own registry.
import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsRegistry } from '../metrics/metrics.registry';

@Injectable()
export class ScalingMetrics {
  readonly decisions: Counter<'query' | 'policy' | 'direction'>;

  constructor(metrics: MetricsRegistry) {
    this.decisions = new Counter({
      name: 'sluice_scaling_decisions_total',
      help: 'Decisions of the live scaling loop (direction up, down or none)',
      labelNames: ['query', 'policy', 'direction'],
      registers: [metrics.registry],
    });
  }
}
