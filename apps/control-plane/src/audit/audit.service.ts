// Every mutation writes who did what, with the state before and after.
import { Injectable } from '@nestjs/common';
import { ClsRequestId } from '../logging/request-context';
import { PrismaRepository } from '../repositories/prisma.repository';
import type { Prisma } from '../generated/prisma/client';
import type { Actor } from './actor';

export interface AuditEntry {
  actor: Actor;
  action: string;
  target?: string;
  before?: unknown;
  after?: unknown;
}

const toJson = (v: unknown): Prisma.InputJsonValue | undefined =>
  v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue);

@Injectable()
export class AuditService {
  constructor(private readonly prisma: PrismaRepository) {}

  async record(entry: AuditEntry, tx: Prisma.TransactionClient = this.prisma): Promise<void> {
    await tx.auditLog.create({
      data: {
        actor: entry.actor.name,
        actorId: entry.actor.id,
        action: entry.action,
        target: entry.target ?? null,
        before: toJson(entry.before),
        after: toJson(entry.after),
        requestId: ClsRequestId.current() ?? null,
      },
    });
  }

  list(target?: string, limit = 100) {
    return this.prisma.auditLog.findMany({
      where: target ? { target } : {},
      orderBy: { id: 'desc' },
      take: Math.min(Math.max(limit, 1), 1000),
    });
  }
}
