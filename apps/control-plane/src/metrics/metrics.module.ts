import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { OpenMetricsController, TokenMetricsController } from './metrics.controller';
import { MetricsPortServer } from './metrics-port.server';
import { MetricsRegistry } from './metrics.registry';
import { AlertMetrics } from './alert-metrics';
import { QueryMetrics } from './query-metrics';

/** Where /metrics is served follows SLUICE_METRICS_ACCESS (see app-config.ts). */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const access = config.SLUICE_METRICS_ACCESS;
    return {
      module: MetricsModule,
      controllers:
        access === 'open' ? [OpenMetricsController] : access === 'token' ? [TokenMetricsController] : [],
      providers: [
        MetricsRegistry,
        QueryMetrics,
        AlertMetrics,
        ...(access === 'port' ? [MetricsPortServer] : []),
      ],
      exports: [MetricsRegistry, QueryMetrics, AlertMetrics],
    };
  }
}
