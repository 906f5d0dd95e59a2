// Terminus indicators for the three servers the control plane needs. Each check is bounded by a
// timeout so /readyz answers promptly even when a server hangs rather than refuses.
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { KafkaAdminRepository } from '../repositories/kafka-admin.repository';
import { PrismaRepository } from '../repositories/prisma.repository';
import { RedisRepository } from '../repositories/redis.repository';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

@Injectable()
export class DependencyHealth {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaRepository,
    private readonly redis: RedisRepository,
    private readonly kafka: KafkaAdminRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private async probe(key: string, fn: () => Promise<Record<string, unknown> | void>): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    try {
      const details = await withTimeout(Promise.resolve(fn()), this.config.SLUICE_READY_TIMEOUT_MS, key);
      return indicator.up(details ?? {});
    } catch (e) {
      return indicator.down({ message: e instanceof Error ? e.message : String(e) });
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
