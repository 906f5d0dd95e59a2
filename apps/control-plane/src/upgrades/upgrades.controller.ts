import { Body, Controller, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ApiIdParam } from '../openapi/api-id-param.decorator';
import { operationSchema } from '../operations/operation.dto';
import { zodParam } from '../validation/zod-param';
import { rollbackBody, upgradeBody, type RollbackBody, type UpgradeBody } from './upgrade.dto';
import { UpgradesService } from './upgrades.service';

// A malformed id cannot name a query: answer 404 like any unknown id.
const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'query not found' }),
});
const BUSY = 'OPERATION_IN_PROGRESS (another operation is active, with its operationId)';

@ApiTags('queries')
@ApiBearerAuth()
@Controller('api/v1/queries')
export class UpgradesController {
  constructor(private readonly upgrades: UpgradesService) {}

  @Post(':id/upgrade')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({
    summary:
      'Upgrade a running query to another version: drain, start on the same checkpoint (in-place) or a new one, health gate, automatic rollback',
  })
  @ApiIdParam('query')
  @ApiResponse({
    status: 202,
    description: 'The upgrade operation; its steps show progress and the figures the health gate judged',
    standardSchema: operationSchema,
  })
  @ApiErrors(
    400,
    401,
    403,
    [404, 'No such query, or no such version (VERSION_NOT_FOUND)'],
    [
      409,
      `UPGRADE_INCOMPATIBLE (in-place, with the compatibility report in \`compatibility\`), SINK_CONNECTION_CHANGED (new-checkpoint continuing into another sink database, with the report), SAME_VERSION, QUERY_NOT_RUNNING, VERSION_NOT_COMPILABLE, ${BUSY}`,
    ],
    413,
  )
  upgrade(
    @Param('id', uuid) id: string,
    @Body(zodParam(upgradeBody)) body: UpgradeBody,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.upgrades.upgrade(id, body, actorOf(who));
  }

  @Post(':id/rollback')
  @HttpCode(202)
  @RequireRole('operator')
  @ApiOperation({
    summary:
      'Roll back to the last good version on its checkpoint (or, when the query runs it, to the good version before it)',
  })
  @ApiIdParam('query')
  @ApiResponse({ status: 202, description: 'The rollback operation', standardSchema: operationSchema })
  @ApiErrors(
    400,
    401,
    403,
    404,
    [
      409,
      `NO_ROLLBACK_TARGET, ROLLBACK_INCOMPATIBLE (with \`compatibility\`), QUERY_NOT_RUNNING, VERSION_NOT_COMPILABLE, ${BUSY}`,
    ],
    413,
  )
  rollback(
    @Param('id', uuid) id: string,
    @Body(zodParam(rollbackBody)) body: RollbackBody,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.upgrades.rollback(id, body, actorOf(who));
  }
}
