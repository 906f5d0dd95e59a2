// Sticky, balanced partition assignment for the engine's consumer groups (pure; the kafkajs
// adapter is sticky-assigner.ts). kafkajs ships only a round-robin assignor over member ids
// sorted as strings: a new member lands at a random place in that order and moves most
// partitions, and every moved partition throws away the batch its old owner was running.
//
// This follows Apache Kafka's StickyAssignor (KIP-54; clients/.../AbstractStickyAssignor.java):
// each member reports the partitions it owns in its subscription's user data; the leader keeps
// every owned partition with its owner as far as balance allows (each member gets ⌊P/M⌋ or
// ⌈P/M⌉), and only the surplus and the unowned partitions move, to the least-loaded members.
// Where two members claim the same partition (one was expelled from the group and has not
// noticed), Kafka's assignor keeps the claim of the higher generation; kafkajs hides the
// generation from assignors, so a claim instead names the member id it was made under: a member
// the coordinator expelled rejoins under a new member id, so its claims are the stale ones.
// Kafka's CooperativeStickyAssignor (KIP-429) additionally revokes moving partitions in a second
// round; kafkajs only speaks the eager protocol, so that part has no counterpart here.
import type { TopicPartition } from './group-reader';

export interface MemberClaim {
  memberId: string;
  /** Topics the member subscribes to (it only gets partitions of these). */
  topics: string[];
  /** Partitions the member owned after its last assignment. */
  owned: TopicPartition[];
  /** The member id it owned them under (its id then); differs from memberId after an expulsion. */
  ownedAs: string | null;
}

const key = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

function byPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

/**
 * Assigns every partition of `partitions` (topic → partition ids) to one member subscribed to its
 * topic. Deterministic for the same input. Members with no partition get an empty list.
 */
export function stickyAssign(
  members: readonly MemberClaim[],
  partitions: ReadonlyMap<string, readonly number[]>,
): Map<string, TopicPartition[]> {
  const out = new Map<string, TopicPartition[]>();
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  for (const m of sorted) out.set(m.memberId, []);
  if (sorted.length === 0) return out;
  const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.topics)]));
  const all: TopicPartition[] = [];
  for (const [topic, ids] of partitions) for (const partition of ids) all.push({ topic, partition });
  all.sort(byPartition);
  const exists = new Set(all.map(key));

  // 1. Each existing partition goes to at most one claimant: a current claim beats a stale one
  //    (made under another member id), then the lower member id (deterministic).
  const claimant = new Map<string, { memberId: string; current: boolean }>();
  for (const m of sorted) {
    const current = m.ownedAs === m.memberId;
    for (const tp of m.owned) {
      const k = key(tp);
      if (!exists.has(k) || !subscribed.get(m.memberId)!.has(tp.topic)) continue;
      const prev = claimant.get(k);
      if (!prev || (current && !prev.current)) claimant.set(k, { memberId: m.memberId, current });
    }
  }
  const kept = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]));
  for (const tp of all) {
    const c = claimant.get(key(tp));
    if (c) kept.get(c.memberId)!.push(tp);
  }

  // 2. Quotas: ⌊P/M⌋ each, one more for P mod M members — those keeping the most already, so the
  //    fewest partitions move.
  const base = Math.floor(all.length / sorted.length);
  let extra = all.length % sorted.length;
  const quota = new Map<string, number>();
  const byKept = [...sorted].sort((a, b) => kept.get(b.memberId)!.length - kept.get(a.memberId)!.length);
  for (const m of byKept) quota.set(m.memberId, base + (extra-- > 0 ? 1 : 0));

  // 3. Keep up to the quota; the surplus joins the unclaimed partitions.
  const pool: TopicPartition[] = all.filter((tp) => !claimant.has(key(tp)));
  for (const m of sorted) {
    const mine = kept.get(m.memberId)!;
    const q = quota.get(m.memberId)!;
    out.get(m.memberId)!.push(...mine.slice(0, q));
    pool.push(...mine.slice(q));
  }
  pool.sort(byPartition);

  // 4. The pool goes to the least-loaded subscribed member below its quota (any subscribed
  //    member when all are full: members with different subscriptions cannot all be balanced).
  for (const tp of pool) {
    const eligible = sorted.filter((m) => subscribed.get(m.memberId)!.has(tp.topic));
    if (eligible.length === 0) continue; // nobody subscribes: kafkajs never asks for such a topic
    const below = eligible.filter((m) => out.get(m.memberId)!.length < quota.get(m.memberId)!);
    const from = below.length > 0 ? below : eligible;
    let best = from[0]!;
    for (const m of from) if (out.get(m.memberId)!.length < out.get(best.memberId)!.length) best = m;
    out.get(best.memberId)!.push(tp);
  }
  for (const list of out.values()) list.sort(byPartition);
  return out;
}

/** How many partitions change owner from `before` to `after` (for tests and logs). */
export function movedPartitions(
  before: ReadonlyMap<string, readonly TopicPartition[]>,
  after: ReadonlyMap<string, readonly TopicPartition[]>,
): number {
  const owner = new Map<string, string>();
  for (const [m, tps] of before) for (const tp of tps) owner.set(key(tp), m);
  let moved = 0;
  for (const [m, tps] of after) for (const tp of tps) if (owner.get(key(tp)) !== m) moved++;
  return moved;
}
