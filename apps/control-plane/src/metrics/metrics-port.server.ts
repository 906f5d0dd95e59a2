// SLUICE_METRICS_ACCESS=port: /metrics on a listener of its own (e.g. reachable only from the
// cluster's Prometheus through a NetworkPolicy), so the API port never shows query names to
// callers without a token, and scrapes need no token either.
import http from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';

@Injectable()
export class MetricsPortServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsPortServer.name);
  private server: http.Server | undefined;

  constructor(
    private readonly metrics: MetricsRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('only GET /metrics is served here\n');
        return;
      }
      this.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE }).end(text),
        (e: Error) => {
          this.logger.warn(`metrics scrape failed: ${e.message}`);
          res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.SLUICE_METRICS_PORT, this.config.SLUICE_METRICS_HOST, () => resolve());
    });
    this.server = server;
    this.logger.log(`metrics on http://${this.config.SLUICE_METRICS_HOST}:${this.address()}/metrics`);
  }

  /** The bound port (SLUICE_METRICS_PORT, or the one chosen for port 0 in tests). */
  address(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : this.config.SLUICE_METRICS_PORT;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
