// One prom-client registry per app instance (not the global default), so tests can boot several
// apps in one process without "metric already registered" errors.
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BUILD_INFO } from '../build-info';

@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
    const info = new Gauge({
      name: 'sluice_build_info',
      help: 'Build information of the Sluice control plane (value is always 1)',
      labelNames: ['version', 'commit', 'node'],
      registers: [this.registry],
    });
    info.set({ version: BUILD_INFO.version, commit: BUILD_INFO.commit, node: process.version }, 1);
  }
}
