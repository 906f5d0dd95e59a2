import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequireRole } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { LeadershipRepository } from '../repositories/leadership.repository';
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
    @Inject(LeaderElection)
    private readonly election: Pick<
      LeaderElection,
      'cluster' | 'replica' | 'isLeader' | 'since' | 'mechanism' | 'leaseHolder' | 'key'
    >,
    @Inject(LeadershipRepository)
    private readonly leadership: Pick<LeadershipRepository, 'advisoryLockHolder'>,
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
    const holder = await this.leadership.advisoryLockHolder(classid, objid);
    return {
      ...own,
      leader: holder?.startsWith('sluice:') ? holder.slice('sluice:'.length) : null,
    };
  }
}
