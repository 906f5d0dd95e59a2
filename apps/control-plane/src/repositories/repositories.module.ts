import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { KafkaAdminRepository } from './kafka-admin.repository';
import { PrismaRepository } from './prisma.repository';
import { RedisRepository } from './redis.repository';

/** All I/O adapters; global so feature modules inject only what they use. */
@Global()
@Module({})
export class RepositoriesModule {
  static forRoot(config: AppConfig): DynamicModule {
    const providers = [
      { provide: APP_CONFIG, useValue: config },
      PrismaRepository,
      RedisRepository,
      KafkaAdminRepository,
    ];
    return { module: RepositoriesModule, providers, exports: providers };
  }
}
