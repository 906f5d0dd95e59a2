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

  /** Idempotent: the bootstrap token is the same row across restarts. */
  async upsertByHash(input: { name: string; role: RoleName; tokenHash: string; prefix: string }): Promise<void> {
    await this.prisma.apiToken.upsert({ where: { tokenHash: input.tokenHash }, create: input, update: { revokedAt: null } });
  }

  list(): Promise<StoredToken[]> {
    return this.prisma.apiToken.findMany({ orderBy: { createdAt: 'asc' } });
  }

  async revoke(id: string): Promise<StoredToken | null> {
    const found = await this.prisma.apiToken.findUnique({ where: { id } });
    if (!found) return null;
    return this.prisma.apiToken.update({ where: { id }, data: { revokedAt: found.revokedAt ?? new Date() } });
  }
}
