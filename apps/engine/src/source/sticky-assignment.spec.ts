import { describe, expect, it } from 'vitest';
import type { TopicPartition } from './group-reader';
import { decodeClaim, encodeClaim } from './sticky-assigner';
import { movedPartitions, stickyAssign, type MemberClaim } from './sticky-assignment';

const T = 'in';
const parts = (n: number, topic = T): Map<string, number[]> =>
  new Map([[topic, Array.from({ length: n }, (_, i) => i)]]);
const tps = (...ps: number[]): TopicPartition[] => ps.map((partition) => ({ topic: T, partition }));
const member = (
  memberId: string,
  owned: TopicPartition[] = [],
  ownedAs: string | null = memberId,
): MemberClaim => ({
  memberId,
  topics: [T],
  owned,
  ownedAs: owned.length > 0 ? ownedAs : null,
});
/** Claims as members would send them after `a` (each owns what it was given, under its id). */
const claimsOf = (a: Map<string, TopicPartition[]>): MemberClaim[] =>
  [...a].map(([id, owned]) => member(id, owned));
const sizes = (a: Map<string, TopicPartition[]>): number[] => [...a.values()].map((l) => l.length).sort();
const everyPartitionOnce = (a: Map<string, TopicPartition[]>, n: number): void => {
  const all = [...a.values()]
    .flat()
    .map((tp) => tp.partition)
    .sort((x, y) => x - y);
  expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
};

describe('stickyAssign', () => {
  it('balances a fresh group (⌊P/M⌋ or ⌈P/M⌉ each) and is deterministic', () => {
    const members = [member('c'), member('a'), member('b')];
    const a = stickyAssign(members, parts(8));
    everyPartitionOnce(a, 8);
    expect(sizes(a)).toEqual([2, 3, 3]);
    expect(stickyAssign([...members].reverse(), parts(8))).toEqual(a);
  });

  it('moves only what balance needs as members join one by one (1 → 4 over 8 partitions)', () => {
    let a = stickyAssign([member('m1')], parts(8));
    let moves = 0;
    for (const id of ['m2', 'm3', 'm4']) {
      const next = stickyAssign([...claimsOf(a), member(id)], parts(8));
      everyPartitionOnce(next, 8);
      moves += movedPartitions(a, next);
      // Members already in the group only lose partitions; none changes hands between them.
      for (const [m, owned] of next)
        if (a.has(m)) for (const tp of owned) expect(a.get(m)).toContainEqual(tp);
      a = next;
    }
    expect(sizes(a)).toEqual([2, 2, 2, 2]);
    // 4 + 2 + 2 (the least a balanced assignment can move), where round robin over random
    // member ids typically moves most partitions at every join.
    expect(moves).toBe(8);
  });

  it('hands a leaving member’s partitions to the others and keeps theirs', () => {
    const before = stickyAssign([member('a'), member('b'), member('c'), member('d')], parts(8));
    const after = stickyAssign(
      claimsOf(before).filter((c) => c.memberId !== 'b'),
      parts(8),
    );
    everyPartitionOnce(after, 8);
    for (const m of ['a', 'c', 'd']) for (const tp of before.get(m)!) expect(after.get(m)).toContainEqual(tp);
    expect(movedPartitions(before, after)).toBe(before.get('b')!.length);
  });

  it('prefers the current owner over a stale claim from an expelled member (rejoined under a new id)', () => {
    // x owned 0–3 as "x-old", was expelled; y got them in the meantime and still owns them.
    const a = stickyAssign(
      [member('x-new', tps(0, 1, 2, 3), 'x-old'), member('y', tps(0, 1, 2, 3))],
      parts(4),
    );
    expect(a.get('y')).toEqual(tps(0, 1));
    expect(a.get('x-new')).toEqual(tps(2, 3));
    // The stale claim still counts when nobody else claims the partition.
    const b = stickyAssign([member('x-new', tps(0, 1), 'x-old'), member('y', tps(2, 3))], parts(4));
    expect(b.get('x-new')).toEqual(tps(0, 1));
  });

  it('drops claims on partitions that no longer exist or topics a member left, and assigns new partitions', () => {
    const a = stickyAssign([member('a', tps(0, 1, 9)), member('b', tps(2))], parts(6));
    everyPartitionOnce(a, 6);
    expect(a.get('a')).toEqual(expect.arrayContaining(tps(0, 1)));
    expect(a.get('b')).toEqual(expect.arrayContaining(tps(2)));
    const other: MemberClaim = { memberId: 'c', topics: ['other'], owned: tps(3), ownedAs: 'c' };
    const b = stickyAssign([member('a'), other], parts(4));
    expect(b.get('c')).toEqual([]);
    expect(b.get('a')).toEqual(tps(0, 1, 2, 3));
  });

  it('assigns every partition of several topics once', () => {
    const partitions = new Map([
      ['x', [0, 1, 2]],
      ['y', [0, 1]],
    ]);
    const members: MemberClaim[] = ['a', 'b'].map((id) => ({
      memberId: id,
      topics: ['x', 'y'],
      owned: [],
      ownedAs: null,
    }));
    const a = stickyAssign(members, partitions);
    expect([...a.values()].flat()).toHaveLength(5);
    expect(sizes(a)).toEqual([2, 3]);
  });
});

describe('the sticky assigner’s claim encoding', () => {
  it('round-trips a claim and ignores malformed user data', () => {
    const claim = decodeClaim('m', [T], encodeClaim(tps(3, 1), 'm-1'));
    expect(claim).toEqual({ memberId: 'm', topics: [T], owned: tps(3, 1), ownedAs: 'm-1' });
    for (const bad of [
      Buffer.from('not json'),
      Buffer.from('{"owned":[["t",[-1,"x",1.5]]],"ownedAs":7}'),
      null,
    ])
      expect(decodeClaim('m', [T], bad)).toEqual({ memberId: 'm', topics: [T], owned: [], ownedAs: null });
  });
});
