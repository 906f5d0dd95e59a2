import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AuditService } from '../audit/audit.service';
import type { Principal } from './auth.decorators';
import { hashToken, newTokenSecret, tokenPrefix } from './token-secret';
import { TokenRepository, type StoredToken } from './token.repository';
import type { RoleName } from './roles';

@Injectable()
export class TokenService implements OnApplicationBootstrap {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Registers SLUICE_BOOTSTRAP_TOKEN as an admin token so a fresh install can be used at all. */
  async onApplicationBootstrap(): Promise<void> {
    const secret = this.config.SLUICE_BOOTSTRAP_TOKEN;
    if (!secret) return;
    // The secret is user-chosen, so no part of it is stored as a prefix.
    await this.tokens.upsertByHash({ name: 'bootstrap', role: 'admin', tokenHash: hashToken(secret), prefix: '(env)' });
  }

  async authenticate(secret: string): Promise<Principal | null> {
    const token = await this.tokens.findActiveByHash(hashToken(secret));
    if (!token) return null;
    // Best effort: a failed timestamp update must not fail the request.
    void this.tokens.touch(token.id).catch(() => undefined);
    return { tokenId: token.id, name: token.name, role: token.role };
  }

  async create(name: string, role: RoleName, actor: string): Promise<{ token: StoredToken; secret: string }> {
    const secret = newTokenSecret();
    const token = await this.tokens.create({ name, role, tokenHash: hashToken(secret), prefix: tokenPrefix(secret) });
    await this.audit.record({ actor, action: 'token.create', target: `token/${token.id}`, after: publicView(token) });
    return { token, secret };
  }

  list(): Promise<StoredToken[]> {
    return this.tokens.list();
  }

  async revoke(id: string, actor: string): Promise<StoredToken | null> {
    const token = await this.tokens.revoke(id);
    if (token) await this.audit.record({ actor, action: 'token.revoke', target: `token/${id}`, after: publicView(token) });
    return token;
  }
}

export function publicView(t: StoredToken) {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}
