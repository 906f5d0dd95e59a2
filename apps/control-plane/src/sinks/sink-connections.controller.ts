import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { DEFAULT_SINK_CONNECTION } from '@sluice/query-plan';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { zodParam } from '../validation/zod-param';
import { sinkConnectionSchema } from './sink-connection-responses.dto';
import {
  createSinkConnectionBody,
  sinkConnectionName,
  type CreateSinkConnectionBody,
} from './sink-connection.dto';
import { SinkConnectionsService } from './sink-connections.service';

// A name that could never have been registered names nothing: 404, and it never reaches SQL.
const nameParam = {
  transform(value: unknown): string {
    const name = String(value);
    if (name === DEFAULT_SINK_CONNECTION || sinkConnectionName.safeParse(name).success) return name;
    throw new NotFoundException({ code: 'NOT_FOUND', message: 'sink connection not found' });
  },
};

// Names that could never be registered answer 404 (nameParam), so any string is a valid request.
const ApiSinkConnectionName = () =>
  ApiParam({
    name: 'name',
    description: 'Name of the sink connection (`default` is built in)',
    schema: { type: 'string' },
  });

@ApiTags('sink-connections')
@ApiBearerAuth()
@Controller('api/v1/sink-connections')
export class SinkConnectionsController {
  constructor(private readonly connections: SinkConnectionsService) {}

  @Post()
  @RequireRole('admin')
  @ApiOperation({
    summary: 'Register where PostgreSQL sinks may write (URL sealed at rest, or an environment variable)',
  })
  @ApiResponse({
    status: 201,
    description: 'The connection (never its URL)',
    standardSchema: sinkConnectionSchema,
  })
  @ApiErrors(400, 401, 403, [409, 'A connection with this name exists (SINK_CONNECTION_EXISTS)'], 413, [
    422,
    'The URL cannot be used (INVALID_SINK_CONNECTION)',
  ])
  create(
    @Body(zodParam(createSinkConnectionBody)) body: CreateSinkConnectionBody,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.connections.create(body, actorOf(who));
  }

  // Operators read connections (they name them in specs); no view ever contains a password.
  @Get()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Every sink connection, the built-in `default` first' })
  @ApiResponse({ status: 200, description: 'The connections', standardSchema: z.array(sinkConnectionSchema) })
  @ApiErrors(401, 403)
  list() {
    return this.connections.list();
  }

  @Get(':name')
  @RequireRole('operator')
  @ApiOperation({ summary: 'A sink connection' })
  @ApiSinkConnectionName()
  @ApiResponse({ status: 200, description: 'The connection', standardSchema: sinkConnectionSchema })
  @ApiErrors(401, 403, 404)
  get(@Param('name', nameParam) name: string) {
    return this.connections.get(name);
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Delete a sink connection no query uses' })
  @ApiSinkConnectionName()
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(
    401,
    403,
    404,
    [409, 'Queries still use it (SINK_CONNECTION_IN_USE)'],
    [422, '`default` is built in (INVALID_SINK_CONNECTION)'],
  )
  async remove(@Param('name', nameParam) name: string, @CurrentPrincipal() who: Principal) {
    await this.connections.remove(name, actorOf(who));
  }
}
