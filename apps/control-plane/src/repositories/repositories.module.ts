import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Clock, SystemClock } from '../clock/clock';
import { AlertTransitionRepository } from './alert-transition.repository';
import { InstanceRepository } from './instance.repository';
import { KafkaAdminRepository } from './kafka-admin.repository';
import { LeadershipRepository } from './leadership.repository';
import { LiveFiguresRepository } from './live-figures.repository';
import { PrismaRepository } from './prisma.repository';
import { ProgressRepository } from './progress.repository';
import { QueryRepository } from './query.repository';
import { RedisRepository } from './redis.repository';
import { ScalingEventRepository } from './scaling-event.repository';

/**
 * All I/O adapters (the clients, the domain repositories over them, the clock); global so feature
 * modules inject only what they use.
 */
@Global()
@Module({})
export class RepositoriesModule {
  static forRoot(config: AppConfig): DynamicModule {
    const providers = [
      { provide: APP_CONFIG, useValue: config },
      PrismaRepository,
      RedisRepository,
      KafkaAdminRepository,
      QueryRepository,
      InstanceRepository,
      ProgressRepository,
      ScalingEventRepository,
      LiveFiguresRepository,
      LeadershipRepository,
      AlertTransitionRepository,
      { provide: Clock, useClass: SystemClock },
    ];
    return { module: RepositoriesModule, providers, exports: providers };
  }
}
