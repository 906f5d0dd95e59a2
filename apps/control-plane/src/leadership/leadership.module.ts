import { Global, Module } from '@nestjs/common';
import { ClusterController } from './cluster.controller';
import { LeaderElection } from './leader-election.service';

/** Global: the loops that only the leader runs (reconcile, operations, scaling, alerts) inject it. */
@Global()
@Module({ controllers: [ClusterController], providers: [LeaderElection], exports: [LeaderElection] })
export class LeadershipModule {}
