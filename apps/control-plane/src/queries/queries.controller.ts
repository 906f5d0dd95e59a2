import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query as Q,
  type ParameterDecoratorOptions,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z, type ZodType } from 'zod';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ApiIdParam } from '../openapi/api-id-param.decorator';
import { ApiConfiguredBody } from '../openapi/document-schemas';
import {
  deleteCommand,
  deployCommand,
  rateLimitCommand,
  scaleCommand,
  startCommand,
  stopCommand,
} from './query-commands';
import { ApiSpecBody } from './spec-body.decorator';
import { operationSchema } from '../operations/operation.dto';
import { zodParam } from '../validation/zod-param';
import { ProgressService } from '../progress/progress.service';
import { queryDetail } from './query-view';
import {
  compatibilityQuery,
  deployBody,
  listQuery,
  rateLimitBody,
  versionPathParams,
  type CompatibilityQuery,
  type ListQuery,
  type VersionPathParams,
} from './query.dto';
import { QueriesService } from './queries.service';
import {
  progressEventSchema,
  queryCreatedSchema,
  queryDetailSchema,
  querySummarySchema,
  queryVersionSchema,
  versionCompatibilitySchema,
  versionCreatedSchema,
} from './query-responses.dto';

// A malformed id cannot name a query: answer 404 like any unknown id.
const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'query not found' }),
});
const createOptions = z.object({ deploy: z.enum(['true', 'false']).default('true') });
// Bodies of the operations are documented from their schema here and validated by the command
// (query-commands.ts) built from them, the one path every caller takes.
const documented = (schema: ZodType): ParameterDecoratorOptions => ({ schema });

@ApiTags('queries')
@ApiBearerAuth()
@Controller('api/v1/queries')
export class QueriesController {
  constructor(
    private readonly queries: QueriesService,
    private readonly progress: ProgressService,
  ) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Register a query (spec as YAML text or JSON) and deploy version 1 unless ?deploy=false',
  })
  @ApiSpecBody()
  @ApiResponse({
    status: 201,
    description: 'Registered; `operation` is the deploy of version 1',
    standardSchema: queryCreatedSchema,
  })
  @ApiErrors(400, 401, 403, [409, 'A query with this name exists (QUERY_EXISTS)'], 413, 415, 422)
  create(
    @Body() body: unknown,
    @Q(zodParam(createOptions)) opts: z.infer<typeof createOptions>,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.queries.create(body, actorOf(who), opts.deploy === 'true', who.role);
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Every query (not deleted), oldest first' })
  @ApiResponse({ status: 200, description: 'The queries', standardSchema: z.array(querySummarySchema) })
  @ApiErrors(401, 403)
  list() {
    return this.queries.list();
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'A query: desired and observed state, conditions, instances, latest progress' })
  @ApiIdParam('query')
  @ApiResponse({ status: 200, description: 'The query', standardSchema: queryDetailSchema })
  @ApiErrors(401, 403, 404)
  async get(@Param('id', uuid) id: string) {
    // Independent reads, issued together: the response waits for one round trip, not three.
    const [q, latest] = await Promise.all([
      this.queries.getWithInstancesOrThrow(id),
      this.progress.latest(id),
    ]);
    return queryDetail(q, latest);
  }

  @Get(':id/versions')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Every version of a query spec, oldest first' })
  @ApiIdParam('query')
  @ApiResponse({ status: 200, description: 'The versions', standardSchema: z.array(queryVersionSchema) })
  @ApiErrors(401, 403, 404)
  versions(@Param('id', uuid) id: string) {
    return this.queries.versions(id);
  }

  @Post(':id/versions')
  @RequireRole('operator')
  @ApiOperation({
    summary:
      'Add a spec version (not deployed: POST /deploy does that); `compatibility` checks it against the running version',
  })
  @ApiIdParam('query')
  @ApiSpecBody()
  @ApiResponse({
    status: 201,
    description: 'The new version and its compatibility with the desired (running) version',
    standardSchema: versionCreatedSchema,
  })
  @ApiErrors(400, 401, 403, 404, [409, "The spec's name is not the query's (NAME_MISMATCH)"], 413, 415, 422)
  addVersion(@Param('id', uuid) id: string, @Body() body: unknown, @CurrentPrincipal() who: Principal) {
    return this.queries.addVersion(id, body, actorOf(who), who.role);
  }

  @Get(':id/versions/:v/compatibility')
  @RequireRole('viewer')
  @ApiOperation({
    summary:
      'May version v resume from the checkpoint of version ?against (default: the desired version)? Every change with its severity',
  })
  @ApiIdParam('query')
  @ApiResponse({
    status: 200,
    description: 'The compatibility report',
    standardSchema: versionCompatibilitySchema,
  })
  @ApiErrors(
    400,
    401,
    403,
    [404, 'No such query, or no such version (VERSION_NOT_FOUND, naming it)'],
    [
      409,
      "A stored version no longer compiles with today's compiler (VERSION_NOT_COMPILABLE, naming it; `errors` point into its spec text)",
    ],
  )
  compatibility(
    @Param('id', uuid) id: string,
    @Param(zodParam(versionPathParams)) params: VersionPathParams,
    @Q(zodParam(compatibilityQuery)) q: CompatibilityQuery,
  ) {
    return this.queries.compatibility(id, params.v, q.against);
  }

  @Post(':id/deploy')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Deploy a version (rolling upgrade when running)' })
  @ApiIdParam('query')
  @ApiResponse({ status: 202, description: 'The deploy operation', standardSchema: operationSchema })
  @ApiErrors(
    400,
    401,
    403,
    [404, 'No such query, or no such version (VERSION_NOT_FOUND)'],
    [409, 'Another operation of this query is active (OPERATION_IN_PROGRESS, with its operationId)'],
    413,
  )
  deploy(
    @Param('id', uuid) id: string,
    @Body(documented(deployBody)) raw: unknown,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.queries.deploy(deployCommand(id, raw), actorOf(who));
  }

  @Post(':id/scale')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Set the number of engine instances (at most SLUICE_MAX_INSTANCES)' })
  @ApiIdParam('query')
  @ApiConfiguredBody('ScaleRequest')
  @ApiResponse({ status: 202, description: 'The scale operation', standardSchema: operationSchema })
  @ApiErrors(
    400,
    401,
    403,
    404,
    [409, 'Another operation of this query is active (OPERATION_IN_PROGRESS, with its operationId)'],
    413,
  )
  scale(@Param('id', uuid) id: string, @Body() raw: unknown, @CurrentPrincipal() who: Principal) {
    return this.queries.scale(scaleCommand(id, raw, this.queries.maxInstances), actorOf(who));
  }

  @Post(':id/rate-limit')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Set maxOffsetsPerTrigger of the running instances (null removes the limit)' })
  @ApiIdParam('query')
  @ApiResponse({ status: 202, description: 'The rate-limit operation', standardSchema: operationSchema })
  @ApiErrors(
    400,
    401,
    403,
    404,
    [409, 'Another operation of this query is active (OPERATION_IN_PROGRESS, with its operationId)'],
    413,
  )
  rateLimit(
    @Param('id', uuid) id: string,
    @Body(documented(rateLimitBody)) raw: unknown,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.queries.rateLimit(rateLimitCommand(id, raw), actorOf(who));
  }

  @Post(':id/stop')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Stop a query (its instances drain)' })
  @ApiIdParam('query')
  @ApiResponse({ status: 202, description: 'The stop operation', standardSchema: operationSchema })
  @ApiErrors(401, 403, 404, [
    409,
    'Another operation of this query is active (OPERATION_IN_PROGRESS, with its operationId)',
  ])
  stop(@Param('id', uuid) id: string, @CurrentPrincipal() who: Principal) {
    return this.queries.stop(stopCommand(id), actorOf(who));
  }

  @Post(':id/start')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Start a stopped or failed query' })
  @ApiIdParam('query')
  @ApiResponse({ status: 202, description: 'The start operation', standardSchema: operationSchema })
  @ApiErrors(401, 403, 404, [
    409,
    'Another operation of this query is active (OPERATION_IN_PROGRESS, with its operationId)',
  ])
  start(@Param('id', uuid) id: string, @CurrentPrincipal() who: Principal) {
    return this.queries.start(startCommand(id), actorOf(who));
  }

  @Delete(':id')
  @HttpCode(202)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Delete a query: drain its instances, then remove it' })
  @ApiIdParam('query')
  @ApiResponse({ status: 202, description: 'The delete operation', standardSchema: operationSchema })
  @ApiErrors(401, 403, 404, [
    409,
    'Another operation of this query is active (OPERATION_IN_PROGRESS, with its operationId)',
  ])
  remove(@Param('id', uuid) id: string, @CurrentPrincipal() who: Principal) {
    return this.queries.remove(deleteCommand(id), actorOf(who));
  }

  @Get(':id/progress')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Stored progress events: newest first, or oldest first after ?since' })
  @ApiIdParam('query')
  @ApiResponse({ status: 200, description: 'Progress events', standardSchema: z.array(progressEventSchema) })
  @ApiErrors(400, 401, 403, 404)
  async progressList(@Param('id', uuid) id: string, @Q(zodParam(listQuery)) q: ListQuery) {
    await this.queries.getOrThrow(id);
    return this.progress.list(id, q.since ? new Date(q.since) : undefined, q.limit);
  }
}
