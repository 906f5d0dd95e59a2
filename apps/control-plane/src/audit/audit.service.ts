// Every mutation writes who did what, with the state before and after.
import { Inject, Injectable } from '@nestjs/common';
import { ClsRequestId } from '../logging/request-context';
import type { AuditLog, Prisma } from '../generated/prisma/client';
import type { Tx } from '../repositories/query.repository';
import type { Actor } from './actor';
import { AuditRepository } from './audit.repository';

export interface AuditEntry {
  actor: Actor;
  action: string;
  target?: string;
  before?: unknown;
  after?: unknown;
}

/** Entries one GET /audit returns at most (and at least one). */
export const AUDIT_PAGE_MAX = 1000;

/** Plain JSON (Dates as ISO strings, undefined fields dropped), as the JSONB columns store it. */
const toJson = (v: unknown): Prisma.InputJsonValue | undefined =>
  v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue);

@Injectable()
export class AuditService {
  constructor(@Inject(AuditRepository) private readonly repo: Pick<AuditRepository, 'append' | 'newest'>) {}

  /** Records `entry`, in `tx` when the change it describes is written in one. */
  async record(entry: AuditEntry, tx?: Tx): Promise<void> {
    await this.repo.append(
      {
        actor: entry.actor.name,
        actorId: entry.actor.id,
        action: entry.action,
        target: entry.target ?? null,
        before: toJson(entry.before),
        after: toJson(entry.after),
        requestId: ClsRequestId.current() ?? null,
      },
      tx,
    );
  }

  /** The newest entries (of `target` only, when given); `limit` is clamped to 1…AUDIT_PAGE_MAX. */
  list(target?: string, limit = 100): Promise<AuditLog[]> {
    return this.repo.newest(target, Math.min(Math.max(limit, 1), AUDIT_PAGE_MAX));
  }
}
