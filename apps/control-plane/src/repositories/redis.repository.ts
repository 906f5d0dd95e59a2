// A Redis connection for health checks and small keys. BullMQ opens its own connections.
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

@Injectable()
export class RedisRepository implements OnModuleDestroy {
  readonly client: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = new Redis(config.REDIS_URL, {
      // Fail commands at once while disconnected instead of queueing them: a readiness probe
      // must answer "down" quickly, not hang until Redis returns.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.client.on('error', () => undefined); // reported through ping(); avoid unhandled 'error' events
  }

  async ping(): Promise<void> {
    const reply = await this.client.ping();
    if (reply !== 'PONG') throw new Error(`unexpected PING reply ${reply}`);
  }

  async onModuleDestroy(): Promise<void> {
    this.client.disconnect();
  }
}
