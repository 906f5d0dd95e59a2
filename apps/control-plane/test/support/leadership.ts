// What the leadership suites (advisory lock: leadership.int.ts; Kubernetes Lease:
// leadership-lease.int.ts) share: each replica's view of the election, waiting until exactly one
// leads, and an operation's outcome polled through any replica.
import { apiOk } from './control-plane-process';
import { eventually } from './test-app';

/** GET /api/v1/cluster. */
export interface ClusterView {
  cluster: string;
  replica: string;
  isLeader: boolean;
  leader: string | null;
  election: string;
}

interface Replica {
  base: string;
  name?: string;
}

export function clusterView(r: Replica, token: string): Promise<ClusterView> {
  return apiOk<ClusterView>(r, token, 'GET', '/api/v1/cluster');
}

/**
 * Every replica's view once exactly one of them leads and every one names a leader (within 30 s),
 * with the leading replica and another one.
 */
export async function electedLeader<R extends Replica>(
  replicas: readonly R[],
  token: string,
): Promise<{ views: ClusterView[]; leader: R; follower: R }> {
  const views = await eventually(
    () => Promise.all(replicas.map((r) => clusterView(r, token))),
    (v) => v.filter((x) => x.isLeader).length === 1 && v.every((x) => x.leader !== null),
    30_000,
    'one leader',
  );
  const leading = views.find((v) => v.isLeader)!;
  const leader = replicas.find((r) => r.name === leading.replica)!;
  const follower = replicas.find((r) => r !== leader)!;
  return { views, leader, follower };
}

/** The follower's view once it leads, within the 15 s the suites allow for a takeover. */
export function followerLeads(follower: Replica, token: string): Promise<ClusterView> {
  return eventually(
    () => clusterView(follower, token),
    (v) => v.isLeader,
    15_000,
    'the follower leads within 15 s',
  );
}

/** An operation once it has ended (SUCCEEDED or FAILED), asked of replica `r`. */
export function operationOutcome(
  r: Replica,
  token: string,
  id: string,
  what: string,
  timeoutMs: number,
): Promise<{ state: string; error: string | null }> {
  return eventually(
    () => apiOk<{ state: string; error: string | null }>(r, token, 'GET', `/api/v1/operations/${id}`),
    (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
    timeoutMs,
    what,
  );
}
