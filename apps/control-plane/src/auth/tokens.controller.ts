import { Body, Controller, Delete, Get, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ZodPipe } from '../validation/zod-body.pipe';
import { CurrentPrincipal, RequireRole, type Principal } from './auth.decorators';
import { ROLES } from './roles';
import { publicView, TokenService } from './token.service';

const createTokenSchema = z.object({
  name: z.string().min(1).max(100),
  role: z.enum(ROLES),
});

@ApiTags('tokens')
@ApiBearerAuth()
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokenService) {}

  @Post()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Create an API token; the secret is returned once' })
  async create(@Body(new ZodPipe(createTokenSchema)) body: z.infer<typeof createTokenSchema>, @CurrentPrincipal() who: Principal) {
    const { token, secret } = await this.tokens.create(body.name, body.role, who.name);
    return { ...publicView(token), token: secret };
  }

  @Get()
  @RequireRole('admin')
  async list() {
    return (await this.tokens.list()).map(publicView);
  }

  @Delete(':id')
  @RequireRole('admin')
  async revoke(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() who: Principal) {
    const token = await this.tokens.revoke(id, who.name);
    if (!token) throw new NotFoundException({ code: 'NOT_FOUND', message: `token ${id} not found` });
    return publicView(token);
  }
}
