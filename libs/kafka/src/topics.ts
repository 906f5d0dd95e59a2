// Idempotent topic creation: create-if-absent, never fail because a topic already exists.
import type { Admin, ITopicConfig } from 'kafkajs';

export async function ensureTopics(admin: Admin, topics: ITopicConfig[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (err) {
    // Another client may have created it between listTopics and createTopics.
    if (!(err instanceof Error) || !/already exists/i.test(err.message)) throw err;
  }
  return missing.map((t) => t.topic);
}

/** End offsets per partition (the offset the next produced record will get). */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}
