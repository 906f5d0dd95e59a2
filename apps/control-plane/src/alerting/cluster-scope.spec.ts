import { describe, expect, it } from 'vitest';
import { clusterScope } from './cluster-scope';

const query = (id: string, cluster: string | null) => ({ id, name: `q-${id}`, cluster });
const alert = (id: string, queryId: string) => ({ id, queryId });

describe('clusterScope', () => {
  const live = [query('a1', 'east'), query('b1', 'west'), query('a2', 'east'), query('n1', null)];

  it("keeps only the evaluating cluster's queries, in order", () => {
    expect(clusterScope('east', live, []).queries.map((q) => q.id)).toEqual(['a1', 'a2']);
    expect(clusterScope('west', live, []).queries.map((q) => q.id)).toEqual(['b1']);
  });

  it('names the live queries of other clusters and unadopted ones as foreign', () => {
    const { foreign } = clusterScope('east', live, []);
    expect([...foreign.ids].sort()).toEqual(['b1', 'n1']);
    expect([...foreign.names].sort()).toEqual(['q-b1', 'q-n1']);
  });

  it("leaves another cluster's alerts (a shared rule's) alone, keeps its own and those of deleted queries", () => {
    const alerts = [alert('x', 'a1'), alert('y', 'b1'), alert('z', 'gone'), alert('w', 'n1')];
    expect(clusterScope('east', live, alerts).alerts.map((a) => a.id)).toEqual(['x', 'z']);
    expect(clusterScope('west', live, alerts).alerts.map((a) => a.id)).toEqual(['y', 'z']);
  });
});
