// The kafkajs side of sticky-assignment.ts: a PartitionAssigner whose subscription carries what
// this member owns (as Kafka's StickyAssignor puts the previous assignment in the subscription's
// user data), and whose leader runs stickyAssign over every member's claim. Listed before
// kafkajs' round-robin assignor, so a group whose members all know it uses it, and a group with
// older members (which only know round robin) falls back to round robin — the broker picks a
// protocol every member supports.
import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';
import type { TopicPartition } from './group-reader';
import { stickyAssign, type MemberClaim } from './sticky-assignment';

export const STICKY_ASSIGNER_NAME = 'SluiceStickyAssigner';
const VERSION = 0;
/** Claims larger than this are ignored (a member never owns more partitions than this). */
const MAX_USER_DATA_BYTES = 1_000_000;

/** What a member knows of its own ownership when it (re)joins. */
export interface OwnedPartitions {
  owned(): TopicPartition[];
  /** The member id the partitions were assigned under (null before the first assignment). */
  ownedAs(): string | null;
}

interface ClaimData {
  ownedAs: string | null;
  owned: Array<[string, number[]]>;
}

export function encodeClaim(owned: TopicPartition[], ownedAs: string | null): Buffer {
  const byTopic = new Map<string, number[]>();
  for (const tp of owned) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  const data: ClaimData = { ownedAs, owned: [...byTopic] };
  return Buffer.from(JSON.stringify(data));
}

/** A member's claim from its user data; anything malformed claims nothing (it is still assigned). */
export function decodeClaim(
  memberId: string,
  topics: string[],
  userData: Buffer | null | undefined,
): MemberClaim {
  const claim: MemberClaim = { memberId, topics, owned: [], ownedAs: null };
  if (!userData || userData.length === 0 || userData.length > MAX_USER_DATA_BYTES) return claim;
  try {
    const data = JSON.parse(userData.toString('utf8')) as Partial<ClaimData>;
    if (typeof data.ownedAs === 'string') claim.ownedAs = data.ownedAs;
    if (Array.isArray(data.owned)) {
      for (const entry of data.owned) {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) continue;
        for (const p of entry[1] as unknown[])
          if (Number.isInteger(p) && (p as number) >= 0)
            claim.owned.push({ topic: entry[0], partition: p as number });
      }
    }
  } catch {
    // not ours (or corrupt): no claim
  }
  return claim;
}

export function stickyAssigner(state: OwnedPartitions): PartitionAssigner {
  return ({ cluster }): Assigner => ({
    name: STICKY_ASSIGNER_NAME,
    version: VERSION,
    async assign({ members, topics }) {
      const claims = members.map((m) => {
        const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
        return decodeClaim(m.memberId, meta?.topics ?? topics, meta?.userData);
      });
      const partitions = new Map<string, number[]>();
      for (const topic of topics)
        partitions.set(
          topic,
          cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId),
        );
      const assignment = stickyAssign(claims, partitions);
      return [...assignment].map(([memberId, tps]) => {
        const byTopic: Record<string, number[]> = {};
        for (const tp of tps) (byTopic[tp.topic] ??= []).push(tp.partition);
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: VERSION,
            assignment: byTopic,
            userData: Buffer.alloc(0),
          }),
        };
      });
    },
    protocol({ topics }) {
      return {
        name: STICKY_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: VERSION,
          topics,
          userData: encodeClaim(state.owned(), state.ownedAs()),
        }),
      };
    },
  });
}
