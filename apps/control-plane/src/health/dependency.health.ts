// Terminus indicators for the three servers the control plane needs. Each check is bounded by a
// timeout so /readyz answers promptly even when a server hangs rather than refuses.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { isDependencyUnavailable } from '../errors/dependency-unavailable';
import { KafkaAdminRepository } from '../repositories/kafka-admin.repository';
import { PrismaRepository } from '../repositories/prisma.repository';
import { RedisRepository } from '../repositories/redis.repository';

class CheckTimeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

@Injectable()
export class DependencyHealth {
  private readonly logger = new Logger(DependencyHealth.name);

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaRepository,
    private readonly redis: RedisRepository,
    private readonly kafka: KafkaAdminRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private async probe(
    key: string,
    fn: () => Promise<Record<string, unknown> | void>,
  ): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    try {
      const details = await withTimeout(Promise.resolve(fn()), this.config.SLUICE_READY_TIMEOUT_MS, key);
      return indicator.up(details ?? {});
    } catch (e) {
      // /readyz is unauthenticated: it says what is down, not the driver's internals or where the
      // server lives (host:port, Prisma's invocation text). The details go to the log.
      const detail = e instanceof Error ? e.message : String(e);
      this.logger.warn(`readiness check ${key} failed: ${detail}`);
      const message =
        e instanceof CheckTimeout
          ? `did not answer within ${this.config.SLUICE_READY_TIMEOUT_MS} ms`
          : isDependencyUnavailable(e)
            ? 'not reachable'
            : 'check failed (see the control plane log)';
      return indicator.down({ message });
    }
  }

  postgres(): Promise<HealthIndicatorResult> {
    return this.probe('postgres', () => this.prisma.ping());
  }

  redisCheck(): Promise<HealthIndicatorResult> {
    return this.probe('redis', () => this.redis.ping());
  }

  kafkaCheck(): Promise<HealthIndicatorResult> {
    return this.probe('kafka', async () => this.kafka.describeCluster());
  }
}
