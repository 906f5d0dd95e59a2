import { Injectable } from '@nestjs/common';
import { PrismaRepository } from '../repositories/prisma.repository';
import type { RoleName } from './roles';

export interface StoredToken {
  id: string;
  name: string;
  role: RoleName;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  origin: string;
}

@Injectable()
export class TokenRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  findActiveByHash(tokenHash: string): Promise<StoredToken | null> {
    return this.prisma.apiToken.findFirst({ where: { tokenHash, revokedAt: null } });
  }

  async touch(id: string): Promise<void> {
    await this.prisma.apiToken.update({ where: { id }, data: { lastUsedAt: new Date() } });
  }

  create(input: { name: string; role: RoleName; tokenHash: string; prefix: string }): Promise<StoredToken> {
    return this.prisma.apiToken.create({ data: input });
  }

  findByHash(tokenHash: string): Promise<StoredToken | null> {
    return this.prisma.apiToken.findUnique({ where: { tokenHash } });
  }

  /** Creates the bootstrap row once; a revoked one stays revoked (the row is never touched). */
  async ensureBootstrap(input: {
    name: string;
    tokenHash: string;
  }): Promise<{ token: StoredToken; created: boolean }> {
    const found = await this.findByHash(input.tokenHash);
    if (found) return { token: found, created: false };
    const token = await this.prisma.apiToken.create({
      data: { ...input, role: 'admin', prefix: '(env)', origin: 'bootstrap' },
    });
    return { token, created: true };
  }

  /** Bootstrap tokens from earlier values of the variable, still active. */
  staleBootstraps(currentHash: string): Promise<StoredToken[]> {
    return this.prisma.apiToken.findMany({
      where: { origin: 'bootstrap', revokedAt: null, NOT: { tokenHash: currentHash } },
    });
  }

  list(): Promise<StoredToken[]> {
    return this.prisma.apiToken.findMany({ orderBy: { createdAt: 'asc' } });
  }

  findById(id: string): Promise<StoredToken | null> {
    return this.prisma.apiToken.findUnique({ where: { id } });
  }

  /**
   * Revokes once: the update only matches an active row, so two concurrent revokes of one token
   * cannot both report a change. Returns the row before and after, or null when unknown.
   */
  async revoke(id: string): Promise<{ before: StoredToken; after: StoredToken; changed: boolean } | null> {
    const before = await this.findById(id);
    if (!before) return null;
    const { count } = await this.prisma.apiToken.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    const after = (await this.findById(id)) ?? before;
    return { before, after, changed: count === 1 };
  }
}
