import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/auth.decorators';
import { DependencyHealth } from './dependency.health';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly deps: DependencyHealth,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process is running' })
  @ApiResponse({ status: 200, description: 'Alive', standardSchema: z.object({ status: z.literal('ok') }) })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: PostgreSQL, Redis and Kafka answer (503 names what is down)' })
  readyz() {
    return this.health.check([
      () => this.deps.postgres(),
      () => this.deps.redisCheck(),
      () => this.deps.kafkaCheck(),
    ]);
  }
}
