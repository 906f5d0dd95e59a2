// Which queries (and alerts on them) the evaluating cluster's leader evaluates. A query is owned by
// one cluster (Query.cluster): a leader evaluates the rules of its cluster and the rules with no
// cluster, on its own cluster's queries only, and leaves another cluster's alerts and histories to
// that cluster's leader, though both share one database.

/** The live queries read, split into the evaluating cluster's and the others' (ids and names). */
export interface ClusterScope<Q, A> {
  /** The evaluating cluster's live queries: the ones it evaluates. */
  queries: Q[];
  /** The alerts it owns: of its rules, minus those on another cluster's live query. */
  alerts: A[];
  /** Ids and names of the live queries it does not own (another cluster's, or not yet adopted). */
  foreign: ForeignQueries;
}

export interface ForeignQueries {
  ids: ReadonlySet<string>;
  names: ReadonlySet<string>;
}

/**
 * Splits what was read by owner. A rule with no cluster is shared by every cluster's leader, so its
 * alerts are too: each leader keeps those on its own queries, plus those on queries no longer live
 * (deleted: whichever leader sees them first resolves them), and leaves the rest alone.
 */
export function clusterScope<
  Q extends { id: string; name: string; cluster: string | null },
  A extends { queryId: string },
>(cluster: string, live: readonly Q[], alerts: readonly A[]): ClusterScope<Q, A> {
  const queries: Q[] = [];
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const q of live) {
    if (q.cluster === cluster) queries.push(q);
    else {
      ids.add(q.id);
      names.add(q.name);
    }
  }
  return { queries, alerts: alerts.filter((a) => !ids.has(a.queryId)), foreign: { ids, names } };
}
