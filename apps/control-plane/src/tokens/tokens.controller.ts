import { Body, Controller, Delete, Get, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ApiIdParam } from '../openapi/api-id-param.decorator';
import { zodParam } from '../validation/zod-param';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ROLES } from '../auth/roles';
import { createdTokenSchema, tokenSchema } from './token.dto';
import { TokenService } from './token.service';
import { publicView } from './token-view';
import { printableText } from '../validation/printable-text';

const createTokenSchema = z.object({
  name: printableText(100).min(1),
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
  @ApiResponse({ status: 201, description: 'The token, with its secret', standardSchema: createdTokenSchema })
  @ApiErrors(400, 401, 403, 413)
  async create(
    @Body(zodParam(createTokenSchema)) body: z.infer<typeof createTokenSchema>,
    @CurrentPrincipal() who: Principal,
  ) {
    const { token, secret } = await this.tokens.create(body.name, body.role, actorOf(who));
    return { ...publicView(token), token: secret };
  }

  @Get()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Every API token, revoked ones included (never their secrets)' })
  @ApiResponse({ status: 200, description: 'The tokens', standardSchema: z.array(tokenSchema) })
  @ApiErrors(401, 403)
  async list() {
    return (await this.tokens.list()).map(publicView);
  }

  @Delete(':id')
  @RequireRole('admin')
  @ApiOperation({ summary: 'Revoke an API token (effective at once on this control plane)' })
  @ApiIdParam('token')
  @ApiResponse({ status: 200, description: 'The revoked token', standardSchema: tokenSchema })
  @ApiErrors([400, 'The id is not a UUID'], 401, 403, 404)
  async revoke(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() who: Principal) {
    const token = await this.tokens.revoke(id, actorOf(who));
    if (!token) throw new NotFoundException({ code: 'NOT_FOUND', message: `token ${id} not found` });
    return publicView(token);
  }
}
