import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequireRole } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { PrismaRepository } from '../repositories/prisma.repository';
import { LeaderElection } from './leader-election.service';

const clusterSchema = z.object({
  cluster: z.string(),
  replica: z.string().describe('The replica that answered'),
  isLeader: z.boolean().describe('Whether the replica that answered leads'),
  leaderSince: z.string().nullable(),
  leader: z.string().nullable().describe('The replica holding the leader lock, or null during a change-over'),
  election: z
    .enum(['lease', 'advisory-lock'])
    .describe('How the leader is elected: a Kubernetes Lease, or a PostgreSQL advisory lock'),
});

@ApiTags('cluster')
@ApiBearerAuth()
@Controller('api/v1/cluster')
export class ClusterController {
  constructor(
    private readonly election: LeaderElection,
    private readonly prisma: PrismaRepository,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Which control-plane replica leads (reconciles, runs operations, scales)' })
  @ApiResponse({
    status: 200,
    description: 'Leadership as seen from the Lease or from PostgreSQL',
    standardSchema: clusterSchema,
  })
  @ApiErrors(401, 403)
  async get(): Promise<z.infer<typeof clusterSchema>> {
    const own = {
      cluster: this.election.cluster,
      replica: this.election.replica,
      isLeader: this.election.isLeader,
      leaderSince: this.election.since?.toISOString() ?? null,
      election: this.election.mechanism,
    };
    if (this.election.mechanism === 'lease') return { ...own, leader: await this.election.leaseHolder() };
    // Any replica can name the leader: the lock's holder is a session whose application_name the
    // leader set to its replica name.
    const [classid, objid] = this.election.key;
    const rows = await this.prisma.$queryRaw<{ name: string }[]>`
      SELECT a.application_name AS name
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
         AND l.classid = ${classid}::oid AND l.objid = ${objid}::oid
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    const holder = rows[0]?.name;
    return {
      ...own,
      leader: holder?.startsWith('sluice:') ? holder.slice('sluice:'.length) : null,
    };
  }
}
