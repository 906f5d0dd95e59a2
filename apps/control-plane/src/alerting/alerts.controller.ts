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
import { ackBody, alertsQuery, historyQuery } from './alerting.dto';
import { alertSchema, alertTransitionSchema } from './alerting-responses.dto';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'alert not found' }),
});

@ApiTags('alerting')
@ApiBearerAuth()
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(private readonly api: AlertingApi) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Alerts (one per rule and query), e.g. ?state=firing; `silencedBy` names muting silences',
  })
  @ApiResponse({ status: 200, description: 'The alerts', standardSchema: z.array(alertSchema) })
  @ApiErrors(400, 401, 403)
  list(@Query(zodParam(alertsQuery)) q: z.infer<typeof alertsQuery>) {
    return this.api.alerts(q);
  }

  @Get('history')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Alert transitions, newest first (kept after the alert is gone)' })
  @ApiResponse({
    status: 200,
    description: 'The transitions',
    standardSchema: z.array(alertTransitionSchema),
  })
  @ApiErrors(400, 401, 403)
  history(@Query(zodParam(historyQuery)) q: z.infer<typeof historyQuery>) {
    return this.api.history(q);
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'An alert' })
  @ApiIdParam('alert')
  @ApiResponse({ status: 200, description: 'The alert', standardSchema: alertSchema })
  @ApiErrors(401, 403, 404)
  get(@Param('id', uuid) id: string) {
    return this.api.alert(id);
  }

  @Post(':id/ack')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Acknowledge a firing alert: no repeat notifications for this episode' })
  @ApiIdParam('alert')
  @ApiResponse({ status: 201, description: 'The alert', standardSchema: alertSchema })
  @ApiErrors(400, 401, 403, 404, [409, 'The alert is not firing (ALERT_NOT_FIRING)'], 413)
  ack(
    @Param('id', uuid) id: string,
    @Body(zodParam(ackBody)) body: z.infer<typeof ackBody>,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.api.acknowledge(id, body.comment, actorOf(who));
  }

  @Delete(':id/ack')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Withdraw an acknowledgement' })
  @ApiIdParam('alert')
  @ApiResponse({ status: 200, description: 'The alert', standardSchema: alertSchema })
  @ApiErrors(401, 403, 404)
  unack(@Param('id', uuid) id: string, @CurrentPrincipal() who: Principal) {
    return this.api.unacknowledge(id, actorOf(who));
  }
}
