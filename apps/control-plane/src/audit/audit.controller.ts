import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequireRole } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { zodParam } from '../validation/zod-param';
import { auditEntrySchema } from './audit.dto';
import { AuditService } from './audit.service';
import { printableText } from '../validation/printable-text';

const auditQuery = z.object({
  target: printableText(300).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Audit entries, newest first; ?target= filters by target (e.g. query/<id>)' })
  @ApiResponse({ status: 200, description: 'Audit entries', standardSchema: z.array(auditEntrySchema) })
  @ApiErrors(400, 401, 403)
  async list(@Query(zodParam(auditQuery)) q: z.infer<typeof auditQuery>) {
    const rows = await this.audit.list(q.target, q.limit);
    return rows.map((r) => ({ ...r, id: r.id.toString(), createdAt: r.createdAt.toISOString() }));
  }
}
