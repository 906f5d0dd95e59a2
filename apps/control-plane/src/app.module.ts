import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { clusterName, clusterSlug } from './leadership/cluster-name';
import { BullModule } from '@nestjs/bullmq';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from './config/app-config';
import { AlertingModule } from './alerting/alerting.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { HttpErrorFilter } from './errors/http-error.filter';
import { HealthModule } from './health/health.module';
import { LeadershipModule } from './leadership/leadership.module';
import { requestContextMiddleware } from './logging/request-context';
import { loggerOptions } from './logging/logger.options';
import { MetricsModule } from './metrics/metrics.module';
import { QueriesModule } from './queries/queries.module';
import { RepositoriesModule } from './repositories/repositories.module';
import { RuntimeModule } from './runtime/runtime.module';
import { ScalingModule } from './scaling/scaling.module';
import { SinkConnectionsModule } from './sinks/sink-connections.module';
import { TokensModule } from './tokens/tokens.module';
import { UpgradesModule } from './upgrades/upgrades.module';

@Module({})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(requestContextMiddleware).forRoutes('*');
  }

  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerOptions(config)),
        RepositoriesModule.forRoot(config),
        MetricsModule.forRoot(config),
        HealthModule,
        LeadershipModule,
        AuditModule,
        AuthModule,
        TokensModule,
        ScheduleModule.forRoot(),
        // A key prefix per cluster: clusters sharing one Redis must not take each other's jobs (an
        // operation runs in its query's cluster's runtime). Jobs left under another prefix (after an
        // upgrade or a rename) are re-enqueued from PostgreSQL by the recovery sweeps.
        BullModule.forRoot({
          connection: redisConnection(config.REDIS_URL),
          prefix: `sluice-${clusterSlug(clusterName(config))}`,
        }),
        RuntimeModule,
        SinkConnectionsModule,
        QueriesModule,
        UpgradesModule,
        ScalingModule,
        AlertingModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
    };
  }
}

/** BullMQ takes ioredis options rather than a URL. */
function redisConnection(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
  };
}
