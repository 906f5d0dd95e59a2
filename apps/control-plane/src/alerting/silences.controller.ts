import {
  Body,
  Controller,
  Delete,
  Get,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ApiIdParam } from '../openapi/api-id-param.decorator';
import { zodParam } from '../validation/zod-param';
import { AlertingApi } from './alerting-api.service';
import { silenceBody, silencesQuery, type SilenceBody } from './alerting.dto';
import { silenceSchema } from './alerting-responses.dto';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'silence not found' }),
});

@ApiTags('alerting')
@ApiBearerAuth()
@Controller('api/v1/silences')
export class SilencesController {
  constructor(private readonly api: AlertingApi) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Silences, newest first (?active=true for those muting now)' })
  @ApiResponse({ status: 200, description: 'The silences', standardSchema: z.array(silenceSchema) })
  @ApiErrors(400, 401, 403)
  list(@Query(zodParam(silencesQuery)) q: z.infer<typeof silencesQuery>) {
    return this.api.silences(q.active === undefined ? undefined : q.active === 'true');
  }

  @Post()
  @RequireRole('operator')
  @ApiOperation({
    summary: "Mute notifications of alerts whose labels match every matcher (Alertmanager's silences)",
  })
  @ApiResponse({ status: 201, description: 'The silence', standardSchema: silenceSchema })
  @ApiErrors(400, 401, 403, 413)
  create(@Body(zodParam(silenceBody)) body: SilenceBody, @CurrentPrincipal() who: Principal) {
    return this.api.createSilence(body, actorOf(who));
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'A silence' })
  @ApiIdParam('silence')
  @ApiResponse({ status: 200, description: 'The silence', standardSchema: silenceSchema })
  @ApiErrors(401, 403, 404)
  get(@Param('id', uuid) id: string) {
    return this.api.silence(id);
  }

  @Delete(':id')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Expire a silence now (kept in the list as expired)' })
  @ApiIdParam('silence')
  @ApiResponse({ status: 200, description: 'The silence', standardSchema: silenceSchema })
  @ApiErrors(401, 403, 404)
  expire(@Param('id', uuid) id: string, @CurrentPrincipal() who: Principal) {
    return this.api.expireSilence(id, actorOf(who));
  }
}
