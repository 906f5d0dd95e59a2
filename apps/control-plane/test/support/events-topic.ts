// The source topic of the suites that run queries over `eventsSpec` records ({ user_id, amount }):
// created (idempotently, waiting for its metadata) and filled on the shared local broker.
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';

const kafka = () =>
  createKafka({ brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''), clientId: 'it-events' });

/** Creates `topic` with `partitions` partitions, then appends `records` events. */
export async function createEventsTopic(topic: string, partitions: number, records = 0): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, numPartitions: partitions }]);
  } finally {
    await admin.disconnect();
  }
  if (records > 0) await produceEvents(topic, records);
}

/** Appends `count` events: user_id u0..u4 in turn, amount 0..count-1. */
export async function produceEvents(topic: string, count: number): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({
        value: JSON.stringify({ user_id: `u${i % 5}`, amount: i }),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}
