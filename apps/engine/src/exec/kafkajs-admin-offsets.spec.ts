// The admin's offset listing of patches/kafkajs+2.2.4+008+admin-offsets.patch: a topic's latest and
// earliest offsets asked for at once (one round trip a trigger, not two in a row), and, when the
// admin keeps its metadata (admin({ metadataMaxAge })), a retriable answer such as a moved leader
// retried on refreshed metadata. A single broker cannot move a leader, so this drives kafkajs's own
// admin against a scripted cluster; libs/kafka/test/kafka-broker.int.ts covers the real broker.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface Listing {
  topic: string;
  fromBeginning: boolean;
  resolve(offsets: Array<{ partition: number; offset: string }>): void;
  reject(e: Error): void;
}
type CreateAdmin = (opts: {
  logger: unknown;
  retry: { retries: number; initialRetryTime: number };
  cluster: unknown;
}) => {
  fetchTopicOffsets(
    topic: string,
  ): Promise<Array<{ partition: number; offset: string; high: string; low: string }>>;
};

const requireKafkajs = createRequire(__filename);
const createAdmin = requireKafkajs('kafkajs/src/admin') as CreateAdmin;
const { createLogger, LEVELS } = requireKafkajs('kafkajs/src/loggers') as {
  createLogger(o: { level: number; logCreator: () => () => void }): unknown;
  LEVELS: { NOTHING: number };
};
const { createErrorFromCode } = requireKafkajs('kafkajs/src/protocol/error') as {
  createErrorFromCode(code: number): Error & { type: string };
};
/** Kafka's NOT_LEADER_OR_FOLLOWER (kafkajs: NOT_LEADER_FOR_PARTITION, retriable). */
const NOT_LEADER = 6;

/** A two-partition topic whose ListOffsets requests wait until the test answers them. */
function scriptedCluster(metadataMaxAge: number) {
  const listings: Listing[] = [];
  let refreshes = 0;
  const cluster = {
    brokerPool: { metadataMaxAge },
    async addTargetTopic() {},
    async refreshMetadataIfNecessary() {},
    async refreshMetadata() {
      refreshes++;
    },
    findTopicPartitionMetadata: () => [{ partitionId: 0 }, { partitionId: 1 }],
    fetchTopicsOffset(topics: Array<{ topic: string; fromBeginning: boolean }>) {
      const { topic, fromBeginning } = topics[0]!;
      return new Promise((resolve, reject) =>
        listings.push({
          topic,
          fromBeginning,
          resolve: (partitions) => resolve([{ topic, partitions }]),
          reject,
        }),
      );
    },
  };
  const admin = createAdmin({
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => undefined }),
    retry: { retries: 2, initialRetryTime: 1 },
    cluster,
  });
  return { admin, listings, refreshes: () => refreshes };
}

/** Until the admin has sent `n` listings in all (each wait lets its promises and timers run). */
async function listingsSent(listings: Listing[], n: number): Promise<void> {
  for (let i = 0; i < 200 && listings.length < n; i++) await new Promise((r) => setTimeout(r, 1));
}

describe('kafkajs admin fetchTopicOffsets (patch 008)', () => {
  it('asks for both ends before either answers and pairs them per partition', async () => {
    const { admin, listings } = scriptedCluster(0);
    const result = admin.fetchTopicOffsets('t');
    await listingsSent(listings, 2);
    expect(listings.map((l) => [l.topic, l.fromBeginning])).toEqual([
      ['t', false],
      ['t', true],
    ]);
    // Answer the earliest first: the order of the answers does not matter.
    listings[1]!.resolve([
      { partition: 1, offset: '5' },
      { partition: 0, offset: '0' },
    ]);
    listings[0]!.resolve([
      { partition: 0, offset: '10' },
      { partition: 1, offset: '20' },
    ]);
    expect(await result).toEqual([
      { partition: 0, offset: '10', high: '10', low: '0' },
      { partition: 1, offset: '20', high: '20', low: '5' },
    ]);
  });

  it('with cached metadata, retries a moved leader on refreshed metadata', async () => {
    const { admin, listings, refreshes } = scriptedCluster(5000);
    const result = admin.fetchTopicOffsets('t');
    await listingsSent(listings, 2);
    listings[0]!.reject(createErrorFromCode(NOT_LEADER));
    await listingsSent(listings, 4);
    expect(listings).toHaveLength(4);
    expect(refreshes()).toBe(1);
    listings[2]!.resolve([
      { partition: 0, offset: '3' },
      { partition: 1, offset: '4' },
    ]);
    listings[3]!.resolve([
      { partition: 0, offset: '1' },
      { partition: 1, offset: '2' },
    ]);
    expect(await result).toEqual([
      { partition: 0, offset: '3', high: '3', low: '1' },
      { partition: 1, offset: '4', high: '4', low: '2' },
    ]);
  });

  it("without cached metadata (kafkajs's default) keeps kafkajs's answer: the error, no retry", async () => {
    const { admin, listings, refreshes } = scriptedCluster(0);
    const result = admin.fetchTopicOffsets('t');
    await listingsSent(listings, 2);
    listings[0]!.reject(createErrorFromCode(NOT_LEADER));
    await expect(result).rejects.toMatchObject({ type: 'NOT_LEADER_FOR_PARTITION' });
    expect(listings).toHaveLength(2);
    expect(refreshes()).toBe(0);
  });
});
