// Who holds the cluster's PostgreSQL advisory leader lock, as any replica can read it.
import { Injectable } from '@nestjs/common';
import { PrismaRepository } from './prisma.repository';

@Injectable()
export class LeadershipRepository {
  constructor(private readonly prisma: PrismaRepository) {}

  /**
   * The application_name of the session holding the advisory lock (classid, objid) in this
   * database, or null when nobody holds it (a change-over). The leader sets its session's
   * application_name to `sluice:<replica>`.
   */
  async advisoryLockHolder(classid: number, objid: number): Promise<string | null> {
    const rows = await this.prisma.$queryRaw<{ name: string }[]>`
      SELECT a.application_name AS name
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
         AND l.classid = ${classid}::oid AND l.objid = ${objid}::oid
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    return rows[0]?.name ?? null;
  }
}
