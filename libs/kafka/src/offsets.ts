// Offset lookups shared by anything that plans reads from Kafka (engines, lag monitors).
import type { Admin } from 'kafkajs';

export interface OffsetBounds {
  /** Earliest offset still in the log. */
  earliest: number;
  /** Next offset to be written (last stable offset for read_committed listings). */
  latest: number;
}

function toSafeNumber(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`${what} ${value} is not a safe integer`);
  return n;
}

/** Earliest and latest offset per partition of `topic` (kafkajs lists with read_committed). */
export async function offsetBounds(admin: Admin, topic: string): Promise<Map<number, OffsetBounds>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(
    offsets.map((o) => [
      o.partition,
      {
        earliest: toSafeNumber(o.low, `${topic}-${o.partition} low`),
        latest: toSafeNumber(o.high, `${topic}-${o.partition} high`),
      },
    ]),
  );
}

export interface CommittedOffset {
  /** Next offset to consume, or null when the group never committed this partition. */
  offset: number | null;
  metadata: string | null;
}

/** A consumer group's committed offsets, keyed `topic:partition`. */
export async function committedGroupOffsets(
  admin: Admin,
  groupId: string,
  topics: string[],
): Promise<Map<string, CommittedOffset>> {
  const result = new Map<string, CommittedOffset>();
  if (topics.length === 0) return result;
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
    for (const p of partitions) {
      const offset = Number(p.offset);
      result.set(`${topic}:${p.partition}`, {
        offset: offset >= 0 ? offset : null,
        metadata: p.metadata ?? null,
      });
    }
  }
  return result;
}
