// The audit log as the audit service writes and reads it: one entry appended (inside the caller's
// transaction when there is one, so the entry commits or rolls back with the change it describes)
// and the newest entries, optionally of one target.
import { Injectable } from '@nestjs/common';
import type { AuditLog, Prisma } from '../generated/prisma/client';
import { PrismaRepository } from '../repositories/prisma.repository';
import type { Tx } from '../repositories/query.repository';

/** One audit row as written: who (name and token id), what, on what, before/after, which request. */
export interface AuditRow {
  actor: string;
  actorId: string;
  action: string;
  target: string | null;
  before: Prisma.InputJsonValue | undefined;
  after: Prisma.InputJsonValue | undefined;
  requestId: string | null;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** Appends `row`, in `tx` when given (the change it records commits with it). */
  async append(row: AuditRow, tx: Tx = this.prisma): Promise<void> {
    await tx.auditLog.create({ data: row });
  }

  /** The newest `limit` entries (of `target` only, when given), newest first. */
  async newest(target: string | undefined, limit: number): Promise<AuditLog[]> {
    return this.prisma.auditLog.findMany({
      where: target ? { target } : {},
      orderBy: { id: 'desc' },
      take: limit,
    });
  }
}
