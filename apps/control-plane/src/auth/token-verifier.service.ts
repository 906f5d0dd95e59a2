// Turns the bearer token of a request into a principal. Managing tokens (create, list, revoke,
// the bootstrap token) is tokens/token.service.ts; it tells this cache when a token is revoked.
import { Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Principal } from './auth.decorators';
import { hashToken } from './token-secret';
import { TokenRepository } from './token.repository';

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
export class TokenVerifier {
  private readonly logger = new Logger(TokenVerifier.name);
  // Keyed by token hash. Unknown tokens are cached too (bounded), so a client retrying a bad
  // token cannot turn every request into a database query.
  private readonly verified = new LRUCache<string, { principal: Principal | null }>({
    max: 10_000,
    ttl: AUTH_CACHE_MS,
  });
  private readonly touched = new LRUCache<string, true>({ max: 10_000, ttl: TOUCH_EVERY_MS });
  /** Bumped by every revocation: a look-up that started before one must not be cached. */
  private revocations = 0;

  constructor(private readonly tokens: TokenRepository) {}

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

  /** A revoked token stops working at once on this replica (call after the revocation is stored). */
  revoked(tokenId: string): void {
    this.revocations++;
    for (const [hash, entry] of this.verified.entries())
      if (entry.principal?.tokenId === tokenId) this.verified.delete(hash);
  }
}
