import { engineClientId } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import { stableMembers } from './group-members';

const member = (instance: string) => ({ clientId: engineClientId(instance) });

describe('stableMembers', () => {
  it('names the engine instances of a Stable group', () => {
    const got = stableMembers({ state: 'Stable', members: [member('q-0'), member('q-1')] });
    expect([...(got ?? [])].sort()).toEqual(['q-0', 'q-1']);
  });

  it('says nothing while the group rebalances, or when it is empty or unknown', () => {
    for (const state of ['PreparingRebalance', 'CompletingRebalance', 'Dead', 'Empty'])
      expect(stableMembers({ state, members: [member('q-0')] })).toBeUndefined();
    expect(stableMembers({ state: 'Stable', members: [] })).toBeUndefined();
    expect(stableMembers(undefined)).toBeUndefined();
  });

  it('leaves out members that are not engines', () => {
    const got = stableMembers({ state: 'Stable', members: [member('q-0'), { clientId: 'tool' }] });
    expect([...(got ?? [])]).toEqual(['q-0']);
  });
});
