import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { zodParam } from '../validation/zod-param';
import { AlertingApi } from './alerting-api.service';
import {
  deliveriesQuery,
  receiverBody,
  receiverName,
  receiverReplaceBody,
  type ReceiverBody,
  type ReceiverReplaceBody,
} from './alerting.dto';
import { createdReceiverSchema, deliverySchema, receiverSchema } from './alerting-responses.dto';

const nameParam = {
  transform(value: unknown): string {
    const name = String(value);
    if (receiverName.safeParse(name).success) return name;
    throw new NotFoundException({ code: 'NOT_FOUND', message: 'receiver not found' });
  },
};
const ApiReceiverName = () =>
  ApiParam({ name: 'name', description: 'Receiver name', schema: { type: 'string' } });

@ApiTags('alerting')
@ApiBearerAuth()
@Controller('api/v1/receivers')
export class ReceiversController {
  constructor(private readonly api: AlertingApi) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Notification receivers (webhook: Alertmanager v4 payload; slack: incoming webhook)',
  })
  @ApiResponse({ status: 200, description: 'The receivers', standardSchema: z.array(receiverSchema) })
  @ApiErrors(401, 403)
  list() {
    return this.api.receivers();
  }

  @Post()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Add a receiver; the answer carries its HMAC signing secret, shown only once' })
  @ApiResponse({
    status: 201,
    description: 'The receiver and its signing secret',
    standardSchema: createdReceiverSchema,
  })
  @ApiErrors(400, 401, 403, [409, 'A receiver with this name exists (RECEIVER_EXISTS)'], 413, [
    422,
    'URL not http(s) or host not allowed (INVALID_RECEIVER_URL); no signing key (SIGNING_KEY_MISSING)',
  ])
  create(@Body(zodParam(receiverBody)) body: ReceiverBody, @CurrentPrincipal() who: Principal) {
    return this.api.createReceiver(body, actorOf(who));
  }

  @Get(':name')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'A receiver' })
  @ApiReceiverName()
  @ApiResponse({ status: 200, description: 'The receiver', standardSchema: receiverSchema })
  @ApiErrors(401, 403, 404)
  get(@Param('name', nameParam) name: string) {
    return this.api.receiver(name);
  }

  @Put(':name')
  @RequireRole('admin')
  @ApiOperation({
    summary: 'Replace a receiver (URL, kind, matchers, timings, enabled); its signing secret stays',
  })
  @ApiReceiverName()
  @ApiResponse({ status: 200, description: 'The receiver', standardSchema: receiverSchema })
  @ApiErrors(400, 401, 403, 404, 413, [
    422,
    'The body names another receiver (VALIDATION_FAILED); URL not http(s) or host not allowed (INVALID_RECEIVER_URL)',
  ])
  replace(
    @Param('name', nameParam) name: string,
    @Body(zodParam(receiverReplaceBody)) body: ReceiverReplaceBody,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.api.replaceReceiver(name, body, actorOf(who));
  }

  @Post(':name/rotate-secret')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({
    summary:
      'Replace the signing secret: everything sent from now on (retries included) is signed with the new one, shown only once',
  })
  @ApiReceiverName()
  @ApiResponse({
    status: 200,
    description: 'The receiver and its new signing secret',
    standardSchema: createdReceiverSchema,
  })
  @ApiErrors(401, 403, 404, [422, 'No signing key (SIGNING_KEY_MISSING)'])
  rotateSecret(@Param('name', nameParam) name: string, @CurrentPrincipal() who: Principal) {
    return this.api.rotateReceiverSecret(name, actorOf(who));
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Delete a receiver (and its delivery log)' })
  @ApiReceiverName()
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(401, 403, 404)
  async remove(@Param('name', nameParam) name: string, @CurrentPrincipal() who: Principal) {
    await this.api.deleteReceiver(name, actorOf(who));
  }

  @Post(':name/test')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Send a test notification through the real delivery path' })
  @ApiReceiverName()
  @ApiResponse({ status: 201, description: 'The queued delivery', standardSchema: deliverySchema })
  @ApiErrors(401, 403, 404)
  test(@Param('name', nameParam) name: string, @CurrentPrincipal() who: Principal) {
    return this.api.sendTest(name, actorOf(who));
  }

  @Get(':name/deliveries')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Delivery log of a receiver, newest first: status, attempts, HTTP status, last error',
  })
  @ApiReceiverName()
  @ApiResponse({ status: 200, description: 'The deliveries', standardSchema: z.array(deliverySchema) })
  @ApiErrors(400, 401, 403, 404)
  deliveries(
    @Param('name', nameParam) name: string,
    @Query(zodParam(deliveriesQuery)) q: z.infer<typeof deliveriesQuery>,
  ) {
    return this.api.deliveries(name, q.limit);
  }
}
