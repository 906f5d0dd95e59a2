// Which engine instances a query's consumer group holds, read from the group itself: what Kafka
// says has joined, where progress can only say what has finished a batch.
import { instanceOfClientId } from '@sluice/contracts';

/** The parts of a kafkajs describeGroups entry that say who has joined. */
export interface GroupDescription {
  state: string;
  members: readonly { clientId: string }[];
}

/**
 * The instances that are members of a Stable group: every member has synced its assignment and
 * reads. Undefined while the group rebalances (its members' old assignments are revoked and new
 * ones not yet given), when it is empty or dead: then the group says nothing about who reads.
 * Members that are not engines (no engine client id) are left out.
 */
export function stableMembers(group: GroupDescription | undefined): ReadonlySet<string> | undefined {
  if (!group || group.state !== 'Stable' || group.members.length === 0) return undefined;
  const out = new Set<string>();
  for (const m of group.members) {
    const instance = instanceOfClientId(m.clientId);
    if (instance !== undefined) out.add(instance);
  }
  return out;
}
