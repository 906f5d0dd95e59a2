import { describe, expect, it } from 'vitest';
import type { LeadershipRepository } from '../repositories/leadership.repository';
import { ClusterController } from './cluster.controller';

type Election = ConstructorParameters<typeof ClusterController>[0];

function election(over: Partial<Election>): Election {
  return {
    cluster: 'c1',
    replica: 'r-1',
    isLeader: false,
    since: null,
    mechanism: 'advisory-lock',
    key: [7, 9],
    leaseHolder: async () => null,
    ...over,
  };
}

/** A repository that answers `holder` for lock (7, 9) and records what it was asked. */
function locks(
  holder: string | null,
): Pick<LeadershipRepository, 'advisoryLockHolder'> & { asked: number[][] } {
  const asked: number[][] = [];
  return {
    asked,
    async advisoryLockHolder(classid, objid) {
      asked.push([classid, objid]);
      return holder;
    },
  };
}

describe('GET /api/v1/cluster', () => {
  it("names the advisory lock's holder by its replica name", async () => {
    const repo = locks('sluice:r-2');
    const view = await new ClusterController(election({}), repo).get();
    expect(view).toMatchObject({ cluster: 'c1', replica: 'r-1', isLeader: false, leader: 'r-2' });
    expect(repo.asked).toEqual([[7, 9]]);
  });

  it('no leader during a change-over, or when the holder is not a Sluice session', async () => {
    expect((await new ClusterController(election({}), locks(null)).get()).leader).toBeNull();
    expect((await new ClusterController(election({}), locks('psql')).get()).leader).toBeNull();
  });

  it('with a Lease, the Lease holder (no database read)', async () => {
    const repo = locks('sluice:r-9');
    const view = await new ClusterController(
      election({ mechanism: 'lease', leaseHolder: async () => 'r-3' }),
      repo,
    ).get();
    expect(view).toMatchObject({ election: 'lease', leader: 'r-3' });
    expect(repo.asked).toEqual([]);
  });
});
