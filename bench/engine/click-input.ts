// The click records bench:engine and the windowed profile feed their engines: the same input, so a
// profile explains the bench's figures (5,000 users, a third of them to one URL, 10 ms of event time apart).
import type { Kafka } from 'kafkajs';

/** Produces `records` click records to `topic`, 2,000 a send. */
export async function produceClicks(kafka: Kafka, topic: string, records: number): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < records; i += 2000) {
    const messages = [];
    for (let j = i; j < Math.min(records, i + 2000); j++) {
      messages.push({
        value: JSON.stringify({
          id: j,
          user_id: `user-${j % 5000}`,
          url: j % 3 === 0 ? '/product/1' : '/home',
          bytes: j % 1000,
          ts: new Date(base + j * 10).toISOString(),
        }),
      });
    }
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
}
