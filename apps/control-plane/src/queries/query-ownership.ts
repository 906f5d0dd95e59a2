// A query belongs to one cluster (Query.cluster): only that cluster's control planes change it,
// since only they reconcile it. Another cluster's control plane sharing the database still shows it
// (GET by id) but refuses a change with 409 naming the owner: accepted, the change would wait
// for a reconciler that never looks at it, or start engines in the wrong runtime.
import { ConflictException } from '@nestjs/common';

interface Owned {
  id: string;
  name: string;
  cluster: string | null;
}

/** Returns `q` when `cluster` owns it; otherwise a 409 saying which cluster does. */
export function ownedOrConflict<Q extends Owned>(q: Q, cluster: string): Q {
  if (q.cluster === cluster) return q;
  if (q.cluster === null)
    throw new ConflictException({
      code: 'QUERY_NOT_ADOPTED',
      message: `query ${q.name} predates cluster ownership and no cluster has adopted it yet; the next resync of a leader whose runtime it ran on adopts it, retry in a few seconds`,
    });
  throw new ConflictException({
    code: 'QUERY_OF_OTHER_CLUSTER',
    message: `query ${q.name} belongs to cluster "${q.cluster}", not "${cluster}"; send this to a control plane of that cluster`,
    cluster: q.cluster,
  });
}
