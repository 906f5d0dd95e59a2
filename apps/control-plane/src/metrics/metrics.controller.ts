// /metrics on the API port, in the mode SLUICE_METRICS_ACCESS chooses (metrics.module.ts): behind
// any API token, or open. The `port` mode serves it from metrics-port.server.ts instead.
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public, RequireRole } from '../auth/auth.decorators';
import { MetricsRegistry } from './metrics.registry';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

@ApiExcludeController()
@RequireRole('viewer')
@Controller('metrics')
export class TokenMetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

@ApiExcludeController()
@Public()
@Controller('metrics')
export class OpenMetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
