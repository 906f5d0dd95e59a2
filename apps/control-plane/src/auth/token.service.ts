import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AuditService } from '../audit/audit.service';
import type { Principal } from './auth.decorators';
import { hashToken, newTokenSecret, tokenPrefix } from './token-secret';
import { TokenRepository, type StoredToken } from './token.repository';
import type { RoleName } from './roles';

/**
 * How long a verified token is trusted without asking the database again. Every API request
 * authenticates, and two database round trips per request (look-up + lastUsedAt) were the
 * largest part of a cheap GET under load. A revocation through this control plane takes effect
 * at once; one made through another replica takes up to this long.
 */
const AUTH_CACHE_MS = 5000;
/** lastUsedAt is written at most this often per token (minute precision is what users read). */
const TOUCH_EVERY_MS = 60_000;

@Injectable()
export class TokenService implements OnApplicationBootstrap {
  // Keyed by token hash. Unknown tokens are cached too (bounded), so a client retrying a bad
  // token cannot turn every request into a database query.
  private readonly verified = new LRUCache<string, { principal: Principal | null }>({ max: 10_000, ttl: AUTH_CACHE_MS });
  private readonly touched = new LRUCache<string, true>({ max: 10_000, ttl: TOUCH_EVERY_MS });
  /** Bumped by every revocation: a look-up that started before one must not be cached. */
  private revocations = 0;

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
    const hash = hashToken(secret);
    let entry = this.verified.get(hash);
    if (!entry) {
      const epoch = this.revocations;
      const token = await this.tokens.findActiveByHash(hash);
      entry = { principal: token ? { tokenId: token.id, name: token.name, role: token.role } : null };
      if (epoch === this.revocations) this.verified.set(hash, entry);
    }
    const principal = entry.principal;
    if (principal && !this.touched.has(principal.tokenId)) {
      this.touched.set(principal.tokenId, true);
      // Best effort: a failed timestamp update must not fail the request.
      void this.tokens.touch(principal.tokenId).catch(() => undefined);
    }
    return principal;
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
    this.revocations++;
    for (const [hash, entry] of this.verified.entries()) if (entry.principal?.tokenId === id) this.verified.delete(hash);
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
