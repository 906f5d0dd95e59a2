import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query as Q } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ZodPipe } from '../validation/zod-body.pipe';
import { ProgressService } from '../progress/progress.service';
import { queryDetail } from './query-view';
import { deployBody, listQuery, rateLimitBody, scaleBody, type DeployBody, type ListQuery, type RateLimitBody } from './query.dto';
import { QueriesService } from './queries.service';

// A malformed id cannot name a query: answer 404 like any unknown id.
const uuid = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'query not found' }) });
const createOptions = z.object({ deploy: z.enum(['true', 'false']).default('true') });

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
  @ApiOperation({ summary: 'Register a query (spec as YAML text or JSON) and deploy version 1 unless ?deploy=false' })
  @ApiConsumes('application/yaml', 'application/json', 'text/plain')
  @ApiBody({ description: 'Query spec (see DESIGN.md)', schema: { type: 'string' } })
  create(@Body() body: unknown, @Q(new ZodPipe(createOptions)) opts: z.infer<typeof createOptions>, @CurrentPrincipal() who: Principal) {
    return this.queries.create(body, who.name, opts.deploy === 'true');
  }

  @Get()
  @RequireRole('viewer')
  list() {
    return this.queries.list();
  }

  @Get(':id')
  @RequireRole('viewer')
  async get(@Param('id', uuid) id: string) {
    // Independent reads, issued together: the response waits for one round trip, not three.
    const [q, latest] = await Promise.all([this.queries.getWithInstancesOrThrow(id), this.progress.latest(id)]);
    return queryDetail(q, latest);
  }

  @Get(':id/versions')
  @RequireRole('viewer')
  versions(@Param('id', uuid) id: string) {
    return this.queries.versions(id);
  }

  @Post(':id/versions')
  @RequireRole('operator')
  @ApiConsumes('application/yaml', 'application/json', 'text/plain')
  addVersion(@Param('id', uuid) id: string, @Body() body: unknown, @CurrentPrincipal() who: Principal) {
    return this.queries.addVersion(id, body, who.name);
  }

  @Post(':id/deploy')
  @HttpCode(202)
  @RequireRole('operator')
  deploy(@Param('id', uuid) id: string, @Body(new ZodPipe(deployBody)) body: DeployBody, @CurrentPrincipal() who: Principal) {
    return this.queries.deploy(id, body.version, who.name);
  }

  @Post(':id/scale')
  @HttpCode(202)
  @RequireRole('operator')
  scale(@Param('id', uuid) id: string, @Body() raw: unknown, @CurrentPrincipal() who: Principal) {
    const body = new ZodPipe(scaleBody(this.queries.maxInstances)).transform(raw);
    return this.queries.scale(id, body.instances, who.name);
  }

  @Post(':id/rate-limit')
  @HttpCode(202)
  @RequireRole('operator')
  rateLimit(@Param('id', uuid) id: string, @Body(new ZodPipe(rateLimitBody)) body: RateLimitBody, @CurrentPrincipal() who: Principal) {
    return this.queries.rateLimit(id, body.maxOffsetsPerTrigger, who.name);
  }

  @Post(':id/stop')
  @HttpCode(202)
  @RequireRole('operator')
  stop(@Param('id', uuid) id: string, @CurrentPrincipal() who: Principal) {
    return this.queries.stop(id, who.name);
  }

  @Post(':id/start')
  @HttpCode(202)
  @RequireRole('operator')
  start(@Param('id', uuid) id: string, @CurrentPrincipal() who: Principal) {
    return this.queries.start(id, who.name);
  }

  @Delete(':id')
  @HttpCode(202)
  @RequireRole('admin')
  remove(@Param('id', uuid) id: string, @CurrentPrincipal() who: Principal) {
    return this.queries.remove(id, who.name);
  }

  @Get(':id/progress')
  @RequireRole('viewer')
  async progressList(@Param('id', uuid) id: string, @Q(new ZodPipe(listQuery)) q: ListQuery) {
    await this.queries.getOrThrow(id);
    return this.progress.list(id, q.since ? new Date(q.since) : undefined, q.limit);
  }
}
