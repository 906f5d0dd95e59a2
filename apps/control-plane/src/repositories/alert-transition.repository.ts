// A query's alert transitions as its live event stream follows them: where the stream starts (the
// newest transition at subscription) and what came after. Read from PostgreSQL rather than from an
// in-process emitter: only the leader evaluates, and a client may be connected to any replica.
import { Injectable } from '@nestjs/common';
import type { AlertTransition } from '../generated/prisma/client';
import { PrismaRepository } from './prisma.repository';

@Injectable()
export class AlertTransitionRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /** Id of the query's newest transition (0 when it has none): a stream starts after it. */
  async newestId(queryName: string): Promise<bigint> {
    const row = await this.prisma.alertTransition.findFirst({
      where: { queryName },
      orderBy: { id: 'desc' },
      select: { id: true },
    });
    return row?.id ?? 0n;
  }

  /** The query's transitions after `afterId`, oldest first, at most `limit`. */
  async after(queryName: string, afterId: bigint, limit: number): Promise<AlertTransition[]> {
    return this.prisma.alertTransition.findMany({
      where: { queryName, id: { gt: afterId } },
      orderBy: { id: 'asc' },
      take: limit,
    });
  }
}
