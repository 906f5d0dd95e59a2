// Idempotent topic creation: create-if-absent, never fail because a topic already exists.
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';

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
  await waitForMetadata(
    admin,
    missing.map((t) => t.topic),
  );
  return missing.map((t) => t.topic);
}

/** ensureTopics on a short-lived admin client of its own (connected, then always closed). */
export async function ensureTopicsWith(kafka: Kafka, topics: ITopicConfig[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await ensureTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
}

/**
 * `waitForLeaders` covers the controller's view only; a client that asks for metadata right
 * after can still get UNKNOWN_TOPIC_OR_PARTITION. Wait until the broker serves every partition.
 */
async function waitForMetadata(admin: Admin, topics: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** End offsets per partition (the offset the next produced record will get). */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}
