import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Actor } from './actor';
import type { RoleName } from './roles';

export const PUBLIC_KEY = 'sluice:public';
export const ROLE_KEY = 'sluice:role';

/** No token needed (health, metrics, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Minimum role for a handler. Handlers without it need `admin` (secure default). */
export const RequireRole = (role: RoleName) => SetMetadata(ROLE_KEY, role);

export interface Principal {
  tokenId: string;
  name: string;
  role: RoleName;
}

/** The audit identity of a request's token. */
export function actorOf(p: Principal): Actor {
  return { id: `token/${p.tokenId}`, name: p.name };
}

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!req.principal) throw new Error('CurrentPrincipal used on a public route');
  return req.principal;
});
