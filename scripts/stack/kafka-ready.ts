// A listening socket is not a ready broker: the group and transaction coordinators load their
// internal topics lazily, and the first clients then get COORDINATOR_LOAD_IN_PROGRESS. We wait
// until a transactional producer can initialise and a group offset fetch answers.
import { createKafka } from '@sluice/kafka';

export async function waitKafkaCoordinators(broker: string, timeoutMs: number): Promise<void> {
  const kafka = createKafka({ brokers: [broker], clientId: 'sluice-stack-ready' });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    const producer = kafka.producer({
      transactionalId: 'sluice-stack-ready',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    try {
      await admin.connect();
      await admin.fetchOffsets({ groupId: 'sluice-stack-ready', topics: [] });
      await producer.connect();
      return;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  }
  throw new Error(
    `Kafka coordinators not ready: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
  );
}
