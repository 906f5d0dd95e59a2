// Storage of registered sink connections (the built-in `default` has no row).
import { Injectable } from '@nestjs/common';
import type { Prisma, SinkConnection } from '../generated/prisma/client';
import { PrismaRepository } from '../repositories/prisma.repository';

export type SinkConnectionRow = SinkConnection;
type Tx = Prisma.TransactionClient;

@Injectable()
export class SinkConnectionRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  findByName(name: string, tx: Tx = this.prisma): Promise<SinkConnectionRow | null> {
    return tx.sinkConnection.findUnique({ where: { name } });
  }

  list(): Promise<SinkConnectionRow[]> {
    return this.prisma.sinkConnection.findMany({ orderBy: { name: 'asc' } });
  }

  create(data: Prisma.SinkConnectionCreateInput, tx: Tx): Promise<SinkConnectionRow> {
    return tx.sinkConnection.create({ data });
  }

  async delete(name: string, tx: Tx): Promise<void> {
    await tx.sinkConnection.delete({ where: { name } });
  }

  /** Names of live queries whose latest version writes through `connection`. */
  async queriesUsing(connection: string, tx: Tx): Promise<string[]> {
    const rows = await tx.$queryRaw<Array<{ name: string }>>`
      SELECT q.name FROM "Query" q
      JOIN LATERAL (SELECT v.spec FROM "QueryVersion" v WHERE v."queryId" = q.id ORDER BY v.version DESC LIMIT 1) v ON true
      WHERE q."deletedAt" IS NULL
        AND (v.spec #>> '{sink,postgres,connection}' = ${connection}
          -- a stream–static join's tables read through the same connections
          OR EXISTS (SELECT 1 FROM jsonb_each(COALESCE(v.spec -> 'tables', '{}'::jsonb)) t
                     WHERE t.value ->> 'connection' = ${connection}))
      ORDER BY q.name`;
    return rows.map((r) => r.name);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }
}
