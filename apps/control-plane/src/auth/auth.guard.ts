// Global guard: every route needs a bearer token unless marked @Public(); the route's
// @RequireRole (default admin) decides 403. 401 and 403 bodies carry stable codes.
import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PUBLIC_KEY, ROLE_KEY, type Principal } from './auth.decorators';
import { roleAllows, type RoleName } from './roles';
import { TokenVerifier } from './token-verifier.service';

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new UnauthorizedException({
        code: 'UNAUTHENTICATED',
        message: 'missing bearer token (Authorization: Bearer <token>)',
      });
    }
    const principal = await this.tokens.authenticate(match[1]);
    if (!principal)
      throw new UnauthorizedException({ code: 'UNAUTHENTICATED', message: 'unknown or revoked token' });
    const need = this.reflector.getAllAndOverride<RoleName>(ROLE_KEY, targets) ?? 'admin';
    if (!roleAllows(principal.role, need)) {
      throw new ForbiddenException({
        code: 'FORBIDDEN',
        message: `this action needs role ${need}; token "${principal.name}" has ${principal.role}`,
      });
    }
    req.principal = principal;
    return true;
  }
}
