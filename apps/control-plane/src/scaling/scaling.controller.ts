import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query as Q,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ApiIdParam } from '../openapi/api-id-param.decorator';
import { ApiConfiguredBody } from '../openapi/document-schemas';
import { ZodPipe } from '../validation/zod-body.pipe';
import { zodParam } from '../validation/zod-param';
import {
  scalingBody,
  scalingEventSchema,
  scalingEventsQuery,
  scalingSettingsSchema,
  type ScalingEventsQuery,
} from './scaling.dto';
import { ScalingSettingsService } from './scaling-settings.service';

// A malformed id cannot name a query: answer 404 like any unknown id.
const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'query not found' }),
});

@ApiTags('scaling')
@ApiBearerAuth()
@Controller('api/v1/queries')
export class ScalingController {
  constructor(private readonly scaling: ScalingSettingsService) {}

  @Get(':id/scaling-events')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Decisions of the scaling loop for a query, newest first' })
  @ApiIdParam('query')
  @ApiResponse({ status: 200, description: 'Scaling decisions', standardSchema: z.array(scalingEventSchema) })
  @ApiErrors(400, 401, 403, 404)
  events(@Param('id', uuid) id: string, @Q(zodParam(scalingEventsQuery)) q: ScalingEventsQuery) {
    return this.scaling.events(id, q.limit);
  }

  @Get(':id/scaling')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Scaling settings of a query' })
  @ApiIdParam('query')
  @ApiResponse({ status: 200, description: 'The settings', standardSchema: scalingSettingsSchema })
  @ApiErrors(401, 403, 404)
  settings(@Param('id', uuid) id: string) {
    return this.scaling.get(id);
  }

  @Post(':id/scaling')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary:
      'Change the scaling policy, mode (auto | observe), instance limits, backpressure or CPU limit per instance of a query',
  })
  @ApiIdParam('query')
  @ApiConfiguredBody('ScalingRequest')
  @ApiResponse({
    status: 200,
    description: 'The settings after the change',
    standardSchema: scalingSettingsSchema,
  })
  @ApiErrors(400, 401, 403, 404, 413)
  update(@Param('id', uuid) id: string, @Body() raw: unknown, @CurrentPrincipal() who: Principal) {
    const body = new ZodPipe(scalingBody(this.scaling.maxInstances)).transform(raw);
    return this.scaling.update(id, body, actorOf(who));
  }
}
