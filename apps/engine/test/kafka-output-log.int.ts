// KafkaOutputLog against the real broker: a task's transactions, request by request. kafkajs is
// patched (patches/kafkajs+2.2.4+002+coordinator-cache.patch) to keep the transaction and group
// coordinators per producer, as Kafka's Java client does, instead of sending FindCoordinator
// before every AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn (issue 20 §5:
// 4 of a batch transaction's 9 round trips). The requests are observed through kafkajs's own
// instrumentation events of the real producer; the outcome through the broker.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer, ProducerConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { committedGroupOffsets, createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { KafkaOutputLog } from '../src/exec/kafka-output-log';
import { markerMetadata } from '../src/exec/output-log';

let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  kafka = createKafka({
    brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
    clientId: 'engine-kafka-output-log-int',
  });
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
});

/**
 * The real client, with every producer it makes reporting its requests (kafkajs's REQUEST event:
 * one per round trip, named by API) into `requests`.
 */
function observedKafka(requests: string[]): Kafka {
  const observed = Object.create(kafka) as Kafka;
  observed.producer = (config?: ProducerConfig): Producer => {
    const producer = kafka.producer(config);
    producer.on(producer.events.REQUEST, (e) => requests.push(e.payload.apiName));
    return producer;
  };
  return observed;
}

/** The first `count` records of `topic` as a read_committed consumer of a new group reads them. */
async function readRecords(topic: string, count: number, groupId: string): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            records.push({
              partition,
              key: message.key?.toString() ?? null,
              value: String(message.value),
              headers: Object.fromEntries(
                Object.entries(message.headers ?? {}).map(([k, v]) => [
                  k,
                  Array.isArray(v) ? v.map(String) : String(v),
                ]),
              ),
              timestamp: message.timestamp,
            });
            if (records.length === count) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
interface ReadRecord {
  partition: number;
  key: string | null;
  value: string;
  headers: Record<string, string | string[]>;
  timestamp: string;
}

/** A test's own input and output (2 partitions) topics, created, and its consumer group. */
async function testTopics(name: string, inputPartitions: number) {
  const run = randomUUID();
  const t = {
    run,
    input: `it-outlog-${name}-in-${run}`,
    output: `it-outlog-${name}-out-${run}`,
    groupId: `it-outlog-${name}-${run}`,
  };
  await ensureTopics(admin, [
    { topic: t.input, numPartitions: inputPartitions },
    { topic: t.output, numPartitions: 2 },
  ]);
  return t;
}

/** kafkajs's apiName of FindCoordinator (its protocol/requests name). */
const FIND_COORDINATOR = 'GroupCoordinator';

const count = (requests: string[], api: string): number => requests.filter((r) => r === api).length;
/**
 * Markers read as a recovery reads them once it has fenced: a committed transaction's offsets are
 * readable only a moment after its EndTxn is answered, and requireStable waits for them.
 */
const STABLE = { requireStable: true };

describe('KafkaOutputLog', () => {
  it('looks the coordinators up once per task producer, not before every transactional request, and commits every batch exactly once', async () => {
    const run = randomUUID();
    const input = `it-outlog-in-${run}`;
    const output = `it-outlog-out-${run}`;
    const groupId = `it-outlog-${run}`;
    await ensureTopics(admin, [
      { topic: input, numPartitions: 1 },
      { topic: output, numPartitions: 3 },
    ]);
    const requests: string[] = [];
    const log = new KafkaOutputLog(observedKafka(requests), admin, `it-outlog-${run}`, new Map());
    const writer = await log.open('src.in.0');
    const BATCHES = 4;
    const ROWS = 30;
    const perBatch: string[][] = [];
    try {
      for (let batchId = 0; batchId < BATCHES; batchId++) {
        const before = requests.length;
        await writer.transaction(
          [
            {
              topic: output,
              messages: Array.from({ length: ROWS }, (_, i) => ({
                partition: i % 3,
                value: `${batchId}:${i}`,
              })),
            },
          ],
          {
            groupId,
            entry: {
              batchId,
              range: { topic: input, partition: 0, start: batchId * 10, end: (batchId + 1) * 10 },
              watermarkMs: 0,
              batchTimestampMs: Date.now(),
              planVersion: 0,
            },
          },
        );
        perBatch.push(requests.slice(before));
      }
    } finally {
      await writer.close();
    }

    // The first batch looks up the group coordinator (TxnOffsetCommit's); the transaction
    // coordinator was found when the producer was initialised (open). Later batches ask no more.
    expect(perBatch.map((r) => count(r, FIND_COORDINATOR))).toEqual([1, 0, 0, 0]);
    // Each batch still makes every transactional request (AddPartitionsToTxn may be sent again
    // after CONCURRENT_TRANSACTIONS: the previous batch's commit markers are written after EndTxn).
    for (const r of perBatch) {
      expect(count(r, 'AddPartitionsToTxn')).toBeGreaterThanOrEqual(1);
      expect(count(r, 'AddOffsetsToTxn')).toBeGreaterThanOrEqual(1);
      expect(count(r, 'TxnOffsetCommit')).toBe(1);
      expect(count(r, 'EndTxn')).toBe(1);
    }

    // Exactly once: every batch's records are committed, once, and the marker names the last batch.
    const offsets = await admin.fetchTopicOffsets(output);
    // Each partition holds 4 × 10 records and one commit marker per transaction.
    expect(offsets.map((o) => Number(o.high)).reduce((a, b) => a + b, 0)).toBe(BATCHES * (ROWS + 3));
    const committed = await committedGroupOffsets(admin, groupId, [input], STABLE);
    expect(committed.get(`${input}:0`)).toEqual({
      offset: BATCHES * 10,
      metadata: markerMetadata(BATCHES - 1),
    });
    let values: string[];
    try {
      values = (await readRecords(output, BATCHES * ROWS, `it-outlog-read-${run}`)).map((r) => r.value);
    } finally {
      await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    }
    expect(new Set(values).size).toBe(BATCHES * ROWS);
  });

  it('writes records of every shape as given: null keys, headers (repeated ones too), timestamps, large values (patch 005)', async () => {
    const run = randomUUID();
    const output = `it-outlog-shapes-${run}`;
    await ensureTopics(admin, [{ topic: output, numPartitions: 2 }]);
    const log = new KafkaOutputLog(kafka, admin, `it-outlog-shapes-${run}`, new Map());
    const writer = await log.open('src.in.0');
    const sent = [
      { partition: 0, key: null, value: 'no key, no headers' },
      {
        partition: 0,
        key: 'k1',
        value: 'with headers',
        headers: { 'sluice-reason': 'bad row', h: ['1', '2'] },
      },
      { partition: 1, key: 'k2', value: 'with a timestamp', timestamp: '1700000000123' },
      { partition: 1, key: 'k3', value: 'x'.repeat(100_000), headers: {} },
    ];
    try {
      await writer.transaction([{ topic: output, messages: sent }]);
    } finally {
      await writer.close();
    }
    let got: ReadRecord[];
    try {
      got = await readRecords(output, sent.length, `it-outlog-shapes-read-${run}`);
    } finally {
      await admin.deleteTopics({ topics: [output] }).catch(() => undefined);
    }
    // A partition keeps the order of its records; the sort (stable) only puts partition 0 first.
    got.sort((a, b) => a.partition - b.partition);
    expect(got.map(({ partition, key, value, headers }) => ({ partition, key, value, headers }))).toEqual(
      sent.map(({ partition, key, value, headers }) => ({ partition, key, value, headers: headers ?? {} })),
    );
    expect(got.find((m) => m.key === 'k2')?.timestamp).toBe('1700000000123');
  });

  it("commits a trigger's batches of several tasks in one transaction; a withdrawn task adds nothing", async () => {
    const { run, input, output, groupId } = await testTopics('shared', 4);
    const requests: string[] = [];
    const log = new KafkaOutputLog(observedKafka(requests), admin, `it-outlog-shared-${run}`, new Map());
    const tasks = [0, 1, 2, 3].map((p) => `src.${input}.${p}`);
    try {
      const { txn } = (await log.beginTrigger(tasks))!;
      // The requests of the trigger's commit (not of opening the instance producer).
      requests.length = 0;
      const committed = Promise.all(
        [0, 1, 2].map((p) =>
          txn.transaction(tasks[p]!, [{ topic: output, messages: rows(p, 5) }], {
            groupId,
            entry: entryOf(input, p, 7, 100 * p, 100 * p + 5),
          }),
        ),
      );
      // The fourth task failed before its commit: the others do not wait for it.
      txn.withdraw(tasks[3]!);
      await committed;
      // One transaction for the trigger: one TxnOffsetCommit (one group), one EndTxn.
      expect(count(requests, 'TxnOffsetCommit')).toBe(1);
      expect(count(requests, 'EndTxn')).toBe(1);
      const markers = await committedGroupOffsets(admin, groupId, [input], STABLE);
      for (const p of [0, 1, 2])
        expect(markers.get(`${input}:${p}`)).toEqual({ offset: 100 * p + 5, metadata: markerMetadata(7) });
      expect(markers.get(`${input}:3`)).toEqual({ offset: null, metadata: null });
      const values = (await readRecords(output, 15, `it-outlog-shared-read-${run}`)).map((r) => r.value);
      expect(values.sort()).toEqual([0, 1, 2].flatMap((p) => rows(p, 5).map((m) => m.value)).sort());
    } finally {
      await log.closeShared();
      await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    }
  });

  it('opens the instance producer ahead of the first trigger, which takes it; an early open that failed is replaced, an unused one closed', async () => {
    const { run, input, output, groupId } = await testTopics('early', 1);
    const task = `src.${input}.0`;
    const commitOne = async (log: KafkaOutputLog, batchId: number): Promise<void> => {
      const { txn } = (await log.beginTrigger([task]))!;
      await txn.transaction(task, [{ topic: output, messages: rows(batchId, 2) }], {
        groupId,
        entry: entryOf(input, 0, batchId, 2 * batchId, 2 * batchId + 2),
      });
    };
    const lazyRequests: string[] = [];
    const lazy = new KafkaOutputLog(observedKafka(lazyRequests), admin, `it-outlog-lazy-${run}`, new Map());
    const requests: string[] = [];
    const early = new KafkaOutputLog(observedKafka(requests), admin, `it-outlog-early-${run}`, new Map());
    // A client whose first producer cannot connect (a broker that refused it, say).
    const failing = observedKafka([]);
    let refused = 0;
    const producerOf = failing.producer.bind(failing);
    failing.producer = (config?: ProducerConfig): Producer => {
      const producer = producerOf(config);
      if (refused++ === 0) producer.connect = () => Promise.reject(new Error('refused for the test'));
      return producer;
    };
    const replaced = new KafkaOutputLog(failing, admin, `it-outlog-early-r-${run}`, new Map());
    const disconnected: string[] = [];
    const unusedKafka = Object.create(kafka) as Kafka;
    unusedKafka.producer = (config?: ProducerConfig): Producer => {
      const producer = kafka.producer(config);
      producer.on(producer.events.DISCONNECT, () => disconnected.push(config?.transactionalId ?? ''));
      return producer;
    };
    const unused = new KafkaOutputLog(unusedKafka, admin, `it-outlog-early-u-${run}`, new Map());
    try {
      // Without an early open, the first trigger initialises its producer itself.
      await commitOne(lazy, 0);
      const initsOfAnOpen = count(lazyRequests, 'InitProducerId');
      expect(initsOfAnOpen).toBeGreaterThanOrEqual(1);

      early.openEarly();
      // The producer is initialised with no trigger asking for it ...
      await vi.waitFor(() => expect(count(requests, 'InitProducerId')).toBe(initsOfAnOpen), {
        timeout: 20_000,
      });
      const beforeTrigger = requests.length;
      // ... and the trigger commits in it without initialising another.
      await commitOne(early, 1);
      expect(requests.slice(beforeTrigger)).not.toContain('InitProducerId');
      expect(requests.slice(beforeTrigger)).toContain('EndTxn');

      replaced.openEarly();
      await commitOne(replaced, 2);
      expect(refused).toBe(2);

      unused.openEarly();
      await unused.closeShared();
      expect(disconnected).toHaveLength(1);
      expect(disconnected[0]).toMatch(new RegExp(`^sluice-it-outlog-early-u-${run}-w-`));

      expect((await committedGroupOffsets(admin, groupId, [input], STABLE)).get(`${input}:0`)).toEqual({
        offset: 6,
        metadata: markerMetadata(2),
      });
      const values = (await readRecords(output, 6, `it-outlog-early-read-${run}`)).map((r) => r.value);
      expect(values.sort()).toEqual([0, 1, 2].flatMap((b) => rows(b, 2).map((m) => m.value)).sort());
    } finally {
      await Promise.all([lazy, early, replaced, unused].map((l) => l.closeShared()));
      await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    }
  });

  it("a next owner's fence of the writer named in the offset log aborts that writer's open trigger transaction; the instance commits again under a new writer", async () => {
    const { run, input, output, groupId } = await testTopics('fence', 1);
    const scope = `it-outlog-fence-${run}`;
    const zombie = new KafkaOutputLog(kafka, admin, scope, new Map());
    const owner = new KafkaOutputLog(kafka, admin, scope, new Map());
    const task = `src.${input}.0`;
    try {
      // The zombie's batch 0 has sent its records and marker and waits (its offset-log write, say).
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let sent!: () => void;
      const allSent = new Promise<void>((r) => (sent = r));
      const first = (await zombie.beginTrigger([task]))!;
      const zombieCommit = first.txn.transaction(
        task,
        [{ topic: output, messages: rows(0, 3) }],
        { groupId, entry: entryOf(input, 0, 0, 0, 3) },
        async () => {
          sent();
          await held;
        },
      );
      zombieCommit.catch(() => undefined);
      await allSent;
      // The next owner reads the batch's writer from the offset log and fences it.
      await owner.fenceWriter(first.writer);
      release();
      await expect(zombieCommit).rejects.toThrow();
      // Nothing of the zombie's batch is visible: no marker, no committed record.
      expect((await committedGroupOffsets(admin, groupId, [input], STABLE)).get(`${input}:0`)).toEqual({
        offset: null,
        metadata: null,
      });
      // The instance's next trigger opens a producer under a new id (the fenced one is never
      // initialised again: an entry naming it may be read and fenced by anyone) and commits.
      const second = (await zombie.beginTrigger([task]))!;
      expect(second.writer).not.toBe(first.writer);
      await second.txn.transaction(task, [{ topic: output, messages: rows(1, 2) }], {
        groupId,
        entry: entryOf(input, 0, 0, 0, 2),
      });
      expect((await committedGroupOffsets(admin, groupId, [input], STABLE)).get(`${input}:0`)).toEqual({
        offset: 2,
        metadata: markerMetadata(0),
      });
      const values = (await readRecords(output, 2, `it-outlog-fence-read-${run}`)).map((r) => r.value);
      expect(values.sort()).toEqual(rows(1, 2).map((m) => m.value));
    } finally {
      await zombie.closeShared();
      await owner.closeShared();
      await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    }
  });
});

/** `n` records of task `task`, alternating over two output partitions. */
function rows(task: number, n: number): Array<{ partition: number; value: string }> {
  return Array.from({ length: n }, (_, i) => ({ partition: i % 2, value: `t${task}:${i}` }));
}

function entryOf(topic: string, partition: number, batchId: number, start: number, end: number) {
  return {
    batchId,
    range: { topic, partition, start, end },
    watermarkMs: 0,
    batchTimestampMs: Date.now(),
    planVersion: 0,
  };
}
