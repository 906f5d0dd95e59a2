import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AuditService } from '../audit/audit.service';
import type { Principal } from './auth.decorators';
import { hashToken, newTokenSecret, tokenPrefix } from './token-secret';
import { TokenRepository, type StoredToken } from './token.repository';
import { publicView } from './token-view';
import type { RoleName } from './roles';
import type { Actor } from '../audit/actor';

/**
 * How long a verified token is trusted without asking the database again. Every API request
 * authenticates, and two database round trips per request (look-up + lastUsedAt) were the
 * largest part of a cheap GET under load. A revocation through this control plane takes effect
 * at once; one made through another replica takes up to this long.
 */
const AUTH_CACHE_MS = 5000;
/** lastUsedAt is written at most this often per token (minute precision is what users read). */
const TOUCH_EVERY_MS = 60_000;

/** The control plane itself, acting on SLUICE_BOOTSTRAP_TOKEN at start-up. */
const BOOTSTRAP_ACTOR: Actor = { id: 'system/bootstrap', name: 'bootstrap' };

@Injectable()
export class TokenService implements OnApplicationBootstrap {
  private readonly logger = new Logger(TokenService.name);
  // Keyed by token hash. Unknown tokens are cached too (bounded), so a client retrying a bad
  // token cannot turn every request into a database query.
  private readonly verified = new LRUCache<string, { principal: Principal | null }>({
    max: 10_000,
    ttl: AUTH_CACHE_MS,
  });
  private readonly touched = new LRUCache<string, true>({ max: 10_000, ttl: TOUCH_EVERY_MS });
  /** Bumped by every revocation: a look-up that started before one must not be cached. */
  private revocations = 0;

  constructor(
    private readonly tokens: TokenRepository,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Registers SLUICE_BOOTSTRAP_TOKEN as an admin token so a fresh install can be used at all. Only
   * its hash is stored, once. A revoked bootstrap token stays revoked across restarts (set a new
   * value to get a new one), and bootstrap tokens of earlier values are revoked: changing the
   * variable is how an operator rotates it.
   */
  async onApplicationBootstrap(): Promise<void> {
    const secret = this.config.SLUICE_BOOTSTRAP_TOKEN;
    if (!secret) return;
    const hash = hashToken(secret);
    const { token, created } = await this.tokens.ensureBootstrap({ name: 'bootstrap', tokenHash: hash });
    if (created)
      await this.audit.record({
        actor: BOOTSTRAP_ACTOR,
        action: 'token.create',
        target: `token/${token.id}`,
        after: publicView(token),
      });
    if (token.revokedAt)
      this.logger.warn(
        `SLUICE_BOOTSTRAP_TOKEN was revoked at ${token.revokedAt.toISOString()} and stays revoked; set a new value to bootstrap again`,
      );
    for (const stale of await this.tokens.staleBootstraps(hash)) {
      await this.revokeAs(stale.id, BOOTSTRAP_ACTOR);
      this.logger.log(`revoked the bootstrap token of an earlier SLUICE_BOOTSTRAP_TOKEN value (${stale.id})`);
    }
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
      void this.tokens
        .touch(principal.tokenId)
        .catch((e: Error) =>
          this.logger.warn(`lastUsedAt of token ${principal.tokenId} not written: ${e.message}`),
        );
    }
    return principal;
  }

  async create(name: string, role: RoleName, actor: Actor): Promise<{ token: StoredToken; secret: string }> {
    const secret = newTokenSecret();
    const token = await this.tokens.create({
      name,
      role,
      tokenHash: hashToken(secret),
      prefix: tokenPrefix(secret),
    });
    await this.audit.record({
      actor,
      action: 'token.create',
      target: `token/${token.id}`,
      after: publicView(token),
    });
    return { token, secret };
  }

  list(): Promise<StoredToken[]> {
    return this.tokens.list();
  }

  /** Idempotent: revoking a revoked token answers its state and writes no second audit row. */
  revoke(id: string, actor: Actor): Promise<StoredToken | null> {
    return this.revokeAs(id, actor);
  }

  private async revokeAs(id: string, actor: Actor): Promise<StoredToken | null> {
    const result = await this.tokens.revoke(id);
    this.revocations++;
    for (const [hash, entry] of this.verified.entries())
      if (entry.principal?.tokenId === id) this.verified.delete(hash);
    if (!result) return null;
    if (result.changed) {
      await this.audit.record({
        actor,
        action: 'token.revoke',
        target: `token/${id}`,
        before: publicView(result.before),
        after: publicView(result.after),
      });
    }
    return result.after;
  }
}
