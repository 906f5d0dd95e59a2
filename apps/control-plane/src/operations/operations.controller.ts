import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query as Q } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequireRole } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ApiIdParam } from '../openapi/api-id-param.decorator';
import { zodParam } from '../validation/zod-param';
import { operationSchema } from './operation.dto';
import { OperationRepository } from './operation.repository';
import { operationView } from './operation-view';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'not found' }),
});
const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

@ApiTags('operations')
@ApiBearerAuth()
@Controller('api/v1')
export class OperationsController {
  constructor(private readonly operations: OperationRepository) {}

  @Get('operations/:id')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'An operation: state, steps and progress' })
  @ApiIdParam('operation')
  @ApiResponse({ status: 200, description: 'The operation', standardSchema: operationSchema })
  @ApiErrors(401, 403, 404)
  async get(@Param('id', uuid) id: string) {
    const op = await this.operations.get(id);
    if (!op) throw new NotFoundException({ code: 'NOT_FOUND', message: `operation ${id} not found` });
    return operationView(op);
  }

  @Get('queries/:id/operations')
  @RequireRole('viewer')
  @ApiOperation({ summary: "A query's operations, newest first" })
  @ApiIdParam('query')
  @ApiResponse({
    status: 200,
    description: 'Operations (an unknown query has none)',
    standardSchema: z.array(operationSchema),
  })
  @ApiErrors(400, 401, 403, 404)
  async forQuery(@Param('id', uuid) id: string, @Q(zodParam(limitQuery)) q: z.infer<typeof limitQuery>) {
    return (await this.operations.listForQuery(id, q.limit)).map(operationView);
  }
}
