// Managing API tokens: create, list, revoke (each audited), and the bootstrap token of a fresh
// install. Checking a request's token is auth/token-verifier.service.ts.
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/actor';
import type { RoleName } from '../auth/roles';
import { hashToken, newTokenSecret, tokenPrefix } from '../auth/token-secret';
import { TokenRepository, type StoredToken } from '../auth/token.repository';
import { TokenVerifier } from '../auth/token-verifier.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { publicView } from './token-view';

/** The control plane itself, acting on SLUICE_BOOTSTRAP_TOKEN at start-up. */
const BOOTSTRAP_ACTOR: Actor = { id: 'system/bootstrap', name: 'bootstrap' };

@Injectable()
export class TokenService implements OnApplicationBootstrap {
  private readonly logger = new Logger(TokenService.name);
  constructor(
    private readonly tokens: TokenRepository,
    private readonly verifier: TokenVerifier,
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
    this.verifier.revoked(id);
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
