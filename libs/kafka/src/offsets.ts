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

/**
 * A consumer group's committed offsets, keyed `topic:partition`. Offsets a transaction commits
 * become readable only some time after its EndTxn is answered (the coordinator writes its markers
 * after that); `requireStable` (KIP-447, kafkajs patch 009) waits until no open or completing
 * transaction holds a partition's offsets, so the answer is final. Only wait where the writers
 * that could hold them are known to end soon (fenced, or committing): an abandoned transaction
 * holds them until it times out.
 */
export async function committedGroupOffsets(
  admin: Admin,
  groupId: string,
  topics: string[],
  opts: { requireStable?: boolean } = {},
): Promise<Map<string, CommittedOffset>> {
  const result = new Map<string, CommittedOffset>();
  if (topics.length === 0) return result;
  const requireStable = opts.requireStable ?? false;
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics, requireStable })) {
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
