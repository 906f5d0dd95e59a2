// Proves kafkajs 2.2.4 works against the stack's Kafka 4 broker for everything Sluice relies on:
// idempotent producer, transactions with sendOffsets, read_committed consumers, group rebalance,
// admin topic creation and offset fetches.
import { randomUUID } from 'node:crypto';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, endOffsets, ensureTopics, offsetBounds, parseBrokers } from '../src';

const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:59092');
let kafka: Kafka;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(() => {
  kafka = createKafka({ brokers, clientId: 'kafka-broker-int' });
});

afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

/** An admin client connected for one test, disconnected after the file. */
async function connectedAdmin() {
  const admin = kafka.admin();
  await admin.connect();
  cleanup.push(() => admin.disconnect());
  return admin;
}

/** A transactional producer as the engine's task producers are configured, for one test. */
async function transactionalProducer(prefix: string) {
  const producer = kafka.producer({
    transactionalId: `${prefix}-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  cleanup.push(() => producer.disconnect());
  return producer;
}

async function collect(
  consumer: Consumer,
  until: (seen: EachMessagePayload[]) => boolean,
  timeoutMs = 30_000,
) {
  const seen: EachMessagePayload[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${seen.length} messages`)), timeoutMs);
    void consumer.run({
      eachMessage: async (p) => {
        seen.push(p);
        if (until(seen)) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  return seen;
}

describe('kafkajs against the Kafka 4 broker', () => {
  it('creates topics idempotently and reports end offsets', async () => {
    const admin = await connectedAdmin();
    const topic = `it-admin-${randomUUID()}`;
    expect(await ensureTopics(admin, [{ topic, numPartitions: 3 }])).toEqual([topic]);
    expect(await ensureTopics(admin, [{ topic, numPartitions: 3 }])).toEqual([]);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    cleanup.push(() => producer.disconnect());
    await producer.send({
      topic,
      messages: [
        { value: 'a', partition: 1 },
        { value: 'b', partition: 1 },
      ],
    });
    const ends = await endOffsets(admin, topic);
    expect([...ends.entries()].sort()).toEqual([
      [0, 0n],
      [1, 2n],
      [2, 0n],
    ]);
  });

  it('lists both ends of a topic from cached metadata with an admin metadataMaxAge (kafkajs patch 008)', async () => {
    const topic = `it-bounds-${randomUUID()}`;
    const apis = (admin: ReturnType<Kafka['admin']>) => {
      const seen: string[] = [];
      admin.on(admin.events.REQUEST, (e) => seen.push(e.payload.apiName));
      return seen;
    };
    const cached = kafka.admin({ metadataMaxAge: 60_000 });
    const fresh = kafka.admin();
    for (const a of [cached, fresh]) {
      await a.connect();
      cleanup.push(() => a.disconnect());
    }
    await ensureTopics(cached, [{ topic, numPartitions: 2 }]);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    cleanup.push(() => producer.disconnect());
    await producer.send({ topic, messages: [{ value: 'a', partition: 1 }] });

    expect(await offsetBounds(cached, topic)).toEqual(
      new Map([
        [0, { earliest: 0, latest: 0 }],
        [1, { earliest: 0, latest: 1 }],
      ]),
    );
    const cachedApis = apis(cached);
    const freshApis = apis(fresh);
    for (let i = 0; i < 3; i++) {
      await offsetBounds(cached, topic);
      await offsetBounds(fresh, topic);
    }
    // Cached: two ListOffsets a call (latest and earliest), no Metadata round trip.
    expect(cachedApis).toEqual(Array(6).fill('ListOffsets'));
    // kafkajs's default admin (metadataMaxAge 0) asks for metadata before every listing; its first
    // listing of a topic asks twice when the clock passes a millisecond between adding the topic
    // to its targets and the listing (cluster/brokerPool.js refreshMetadataIfNecessary: `>`).
    expect(freshApis.filter((a) => a === 'Metadata').length).toBeGreaterThanOrEqual(3);
    expect(freshApis.filter((a) => a === 'ListOffsets')).toHaveLength(6);
    // A topic the cached admin has not listed yet is looked up, not missed.
    const other = `it-bounds-${randomUUID()}`;
    await ensureTopics(fresh, [{ topic: other, numPartitions: 1 }]);
    expect(await offsetBounds(cached, other)).toEqual(new Map([[0, { earliest: 0, latest: 0 }]]));
  });

  it('commits a transaction with sendOffsets; read_committed consumers never see aborted records', async () => {
    const admin = await connectedAdmin();
    const input = `it-tx-in-${randomUUID()}`;
    const output = `it-tx-out-${randomUUID()}`;
    const group = `it-tx-group-${randomUUID()}`;
    await ensureTopics(admin, [
      { topic: input, numPartitions: 1 },
      { topic: output, numPartitions: 1 },
    ]);

    const producer = await transactionalProducer('it-tx');

    const committed = await producer.transaction();
    await committed.send({
      topic: output,
      messages: [
        { key: 'k', value: 'committed-1' },
        { key: 'k', value: 'committed-2' },
      ],
    });
    await committed.sendOffsets({
      consumerGroupId: group,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '42' }] }],
    });
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ value: 'aborted' }] });
    await aborted.abort();

    const after = await producer.transaction();
    await after.send({ topic: output, messages: [{ value: 'committed-3' }] });
    await after.commit();

    const offsets = await admin.fetchOffsets({ groupId: group, topics: [input] });
    expect(offsets[0]?.partitions[0]?.offset).toBe('42');

    const consumer = kafka.consumer({ groupId: `it-reader-${randomUUID()}`, readUncommitted: false });
    await consumer.connect();
    cleanup.push(() => consumer.disconnect());
    await consumer.subscribe({ topic: output, fromBeginning: true });
    const seen = await collect(consumer, (s) => s.some((m) => String(m.message.value) === 'committed-3'));
    expect(seen.map((m) => String(m.message.value))).toEqual(['committed-1', 'committed-2', 'committed-3']);
  });

  it('fences a zombie producer that shares the transactional id', async () => {
    const topic = `it-fence-${randomUUID()}`;
    const admin = await connectedAdmin();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    const txId = `it-fence-${randomUUID()}`;
    const zombie = kafka.producer({ transactionalId: txId, idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    cleanup.push(() => zombie.disconnect());
    const zombieTx = await zombie.transaction();
    await zombieTx.send({ topic, messages: [{ value: 'zombie' }] });

    // kafkajs initialises the transactional producer id at the first transaction, so fencing
    // happens when the successor begins its first transaction (this is what a task takeover does).
    const successor = kafka.producer({ transactionalId: txId, idempotent: true, maxInFlightRequests: 1 });
    await successor.connect();
    cleanup.push(() => successor.disconnect());
    const successorTx = await successor.transaction();
    await successorTx.send({ topic, messages: [{ value: 'successor' }] });
    await successorTx.commit();
    await expect(zombieTx.commit()).rejects.toThrow(/old epoch/);

    const consumer = kafka.consumer({ groupId: `it-fence-reader-${randomUUID()}` });
    await consumer.connect();
    cleanup.push(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = await collect(consumer, (s) => s.length >= 1);
    await new Promise((r) => setTimeout(r, 1000)); // give a zombie record the chance to show up
    expect(seen.map((m) => String(m.message.value))).toEqual(['successor']);
  });

  it("fences a transaction's offsets by the consumer group's generation and member id (KIP-447, kafkajs patch 009)", async () => {
    const admin = await connectedAdmin();
    const input = `it-kip447-in-${randomUUID()}`;
    const output = `it-kip447-out-${randomUUID()}`;
    const group = `it-kip447-group-${randomUUID()}`;
    await ensureTopics(admin, [
      { topic: input, numPartitions: 1 },
      { topic: output, numPartitions: 1 },
    ]);
    // A live member of the group: its join is what the offsets are fenced by.
    const member = kafka.consumer({ groupId: group, readUncommitted: false });
    await member.connect();
    cleanup.push(() => member.disconnect());
    const joined = new Promise<{ generationId: number; memberId: string }>((resolve) =>
      member.on(member.events.GROUP_JOIN, (e) => resolve(e.payload)),
    );
    await member.subscribe({ topic: input, fromBeginning: true });
    await member.run({ autoCommit: false, eachMessage: async () => undefined });
    const { generationId, memberId } = await joined;
    expect(generationId).toBeGreaterThan(0);

    const producer = await transactionalProducer('it-kip447');
    const offsetsAt = (offset: string) => [{ topic: input, partitions: [{ partition: 0, offset }] }];
    // The coordinator refuses a transaction's first request while it still writes the last
    // one's markers (the engine waits that out: transaction-retry.ts).
    const afterMarkers = async <T>(work: () => Promise<T>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await work();
        } catch (e) {
          if ((e as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 100) throw e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    // The coordinator answers EndTxn before it writes the markers that make the offsets visible.
    const committedOffset = async (expected: string, waitMs = 10_000) => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const offset = (await admin.fetchOffsets({ groupId: group, topics: [input] }))[0]?.partitions[0]
          ?.offset;
        if (offset === expected || Date.now() > deadline) return offset;
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // The member's own generation: accepted.
    const current = await producer.transaction();
    await current.send({ topic: output, messages: [{ value: 'current' }] });
    await current.sendOffsets({ consumerGroupId: group, topics: offsetsAt('5'), generationId, memberId });
    await current.commit();
    expect(await committedOffset('5')).toBe('5');

    // A generation the group has left (a zombie's): refused, the transaction aborts, nothing lands.
    const stale = await producer.transaction();
    await stale.send({ topic: output, messages: [{ value: 'stale' }] });
    const staleOffsets = {
      consumerGroupId: group,
      topics: offsetsAt('9'),
      generationId: generationId - 1,
      memberId,
    };
    await expect(stale.sendOffsets(staleOffsets)).rejects.toMatchObject({ type: 'ILLEGAL_GENERATION' });
    await stale.abort();

    // A member the group does not know: refused too.
    const stranger = await producer.transaction();
    const strangerOffsets = {
      consumerGroupId: group,
      topics: offsetsAt('9'),
      generationId,
      memberId: 'nobody',
    };
    await expect(afterMarkers(() => stranger.sendOffsets(strangerOffsets))).rejects.toMatchObject({
      type: 'UNKNOWN_MEMBER_ID',
    });
    await stranger.abort();
    // Had either '9' been taken, it would show within this wait.
    expect(await committedOffset('9', 2_000)).toBe('5');

    // Without the metadata nothing is checked, as before the patch (what per-task producers send).
    const unchecked = await producer.transaction();
    await unchecked.send({ topic: output, messages: [{ value: 'unchecked' }] });
    await unchecked.sendOffsets({ consumerGroupId: group, topics: offsetsAt('7') });
    await unchecked.commit();
    expect(await committedOffset('7')).toBe('7');

    const reader = kafka.consumer({ groupId: `it-kip447-reader-${randomUUID()}`, readUncommitted: false });
    await reader.connect();
    cleanup.push(() => reader.disconnect());
    await reader.subscribe({ topic: output, fromBeginning: true });
    const seen = await collect(reader, (s) => s.some((m) => String(m.message.value) === 'unchecked'));
    expect(seen.map((m) => String(m.message.value))).toEqual(['current', 'unchecked']);
  });

  it('reads offsets an open transaction holds only once it ends, with requireStable (KIP-447, kafkajs patch 009)', async () => {
    const admin = await connectedAdmin();
    const input = `it-stable-in-${randomUUID()}`;
    const group = `it-stable-group-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
    const producer = await transactionalProducer('it-stable');
    const offsetsOf = async (requireStable: boolean) =>
      (await admin.fetchOffsets({ groupId: group, topics: [input], requireStable }))[0]!.partitions
        .map((p) => `${p.partition}:${p.offset}`)
        .sort();

    const open = await producer.transaction();
    await open.sendOffsets({
      consumerGroupId: group,
      topics: [{ topic: input, partitions: [{ partition: 1, offset: '12' }] }],
    });
    // Without requireStable: the last committed offsets (none yet), the open transaction unseen.
    expect(await offsetsOf(false)).toEqual(['0:-1', '1:-1']);
    // With it: no answer while the transaction is open…
    let stable: string[] | undefined;
    const waiting = offsetsOf(true).then((o) => (stable = o));
    await new Promise((r) => setTimeout(r, 700));
    expect(stable).toBeUndefined();
    // …then the committed offsets once it ends.
    await open.commit();
    await waiting;
    expect(stable).toEqual(['0:-1', '1:12']);
  });

  it('splits partitions across a consumer group and rebalances when a member leaves', async () => {
    const admin = await connectedAdmin();
    const topic = `it-group-${randomUUID()}`;
    const groupId = `it-group-${randomUUID()}`;
    await ensureTopics(admin, [{ topic, numPartitions: 4 }]);

    const assignments = new Map<string, number[]>();
    const member = async (name: string) => {
      const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
      c.on(c.events.GROUP_JOIN, (e) => {
        assignments.set(name, [...(e.payload.memberAssignment[topic] ?? [])].sort());
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async () => undefined });
      return c;
    };
    const waitUntil = async (pred: () => boolean) => {
      const deadline = Date.now() + 45_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`assignments: ${JSON.stringify([...assignments])}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    const a = await member('a');
    cleanup.push(() => a.disconnect());
    await waitUntil(() => assignments.get('a')?.length === 4);

    const b = await member('b');
    cleanup.push(() => b.disconnect());
    await waitUntil(
      () => (assignments.get('a')?.length ?? 0) === 2 && (assignments.get('b')?.length ?? 0) === 2,
    );
    expect([...(assignments.get('a') ?? []), ...(assignments.get('b') ?? [])].sort()).toEqual([0, 1, 2, 3]);

    await b.disconnect();
    await waitUntil(() => assignments.get('a')?.length === 4);
    expect(assignments.get('a')).toEqual([0, 1, 2, 3]);
  });
});
