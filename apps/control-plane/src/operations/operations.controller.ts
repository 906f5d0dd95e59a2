import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query as Q } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequireRole } from '../auth/auth.decorators';
import { ZodPipe } from '../validation/zod-body.pipe';
import { OperationRepository } from './operation.repository';
import { operationView } from './operation-view';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'not found' }) });
const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

@ApiTags('operations')
@ApiBearerAuth()
@Controller('api/v1')
export class OperationsController {
  constructor(private readonly operations: OperationRepository) {}

  @Get('operations/:id')
  @RequireRole('viewer')
  async get(@Param('id', uuid) id: string) {
    const op = await this.operations.get(id);
    if (!op) throw new NotFoundException({ code: 'NOT_FOUND', message: `operation ${id} not found` });
    return operationView(op);
  }

  @Get('queries/:id/operations')
  @RequireRole('viewer')
  async forQuery(@Param('id', uuid) id: string, @Q(new ZodPipe(limitQuery)) q: z.infer<typeof limitQuery>) {
    return (await this.operations.listForQuery(id, q.limit)).map(operationView);
  }
}
