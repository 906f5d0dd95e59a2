import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';
import { QueryMetrics } from './query-metrics';

@Global()
@Module({ controllers: [MetricsController], providers: [MetricsRegistry, QueryMetrics], exports: [MetricsRegistry, QueryMetrics] })
export class MetricsModule {}
