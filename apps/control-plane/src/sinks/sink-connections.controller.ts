import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { DEFAULT_SINK_CONNECTION } from '@sluice/query-plan';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ZodPipe } from '../validation/zod-body.pipe';
import { createSinkConnectionBody, sinkConnectionName, type CreateSinkConnectionBody } from './sink-connection.dto';
import { SinkConnectionsService } from './sink-connections.service';

// A name that could never have been registered names nothing: 404, and it never reaches SQL.
const nameParam = {
  transform(value: unknown): string {
    const name = String(value);
    if (name === DEFAULT_SINK_CONNECTION || sinkConnectionName.safeParse(name).success) return name;
    throw new NotFoundException({ code: 'NOT_FOUND', message: 'sink connection not found' });
  },
};

@ApiTags('sink-connections')
@ApiBearerAuth()
@Controller('api/v1/sink-connections')
export class SinkConnectionsController {
  constructor(private readonly connections: SinkConnectionsService) {}

  @Post()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Register where PostgreSQL sinks may write (URL sealed at rest, or an environment variable)' })
  create(@Body(new ZodPipe(createSinkConnectionBody)) body: CreateSinkConnectionBody, @CurrentPrincipal() who: Principal) {
    return this.connections.create(body, actorOf(who));
  }

  // Operators read connections (they name them in specs); no view ever contains a password.
  @Get()
  @RequireRole('operator')
  list() {
    return this.connections.list();
  }

  @Get(':name')
  @RequireRole('operator')
  get(@Param('name', nameParam) name: string) {
    return this.connections.get(name);
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireRole('admin')
  async remove(@Param('name', nameParam) name: string, @CurrentPrincipal() who: Principal) {
    await this.connections.remove(name, actorOf(who));
  }
}
