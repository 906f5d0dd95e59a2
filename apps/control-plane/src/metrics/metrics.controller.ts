// /metrics on the API port, in the mode SLUICE_METRICS_ACCESS chooses (metrics.module.ts): behind
// any API token, or open. The `port` mode serves it from metrics-port.server.ts instead.
import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public, RequireRole } from '../auth/auth.decorators';
import { MetricsRegistry } from './metrics.registry';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The scrape itself; the subclasses differ only in who may call it. @Injectable so that its
 * constructor's parameter types are emitted: the subclasses inherit them for injection.
 */
@Injectable()
abstract class MetricsScrape {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

@ApiExcludeController()
@RequireRole('viewer')
@Controller('metrics')
export class TokenMetricsController extends MetricsScrape {}

@ApiExcludeController()
@Public()
@Controller('metrics')
export class OpenMetricsController extends MetricsScrape {}
