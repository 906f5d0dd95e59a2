// The coordinator cache of patches/kafkajs+2.2.4+002+coordinator-cache.patch, when a coordinator
// moves. The stack's single broker is the coordinator of every transactional id and group, so a
// move (NOT_COORDINATOR from the broker that was the coordinator) cannot be provoked against it;
// this runs kafkajs's own transaction manager (eosManager) against a scripted cluster whose
// coordinators move between two transactions. kafka-output-log.int.ts covers the real broker.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(
    topics: Array<{ topic: string; partitions: Array<{ partition: number }> }>,
  ): Promise<void>;
  sendOffsets(args: {
    consumerGroupId: string;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
  }): Promise<void>;
  commit(): Promise<void>;
}
type CreateEosManager = (opts: {
  logger: unknown;
  cluster: unknown;
  transactional: boolean;
  transactionalId: string;
}) => EosManager;

const requireKafkajs = createRequire(__filename);
const createEosManager = requireKafkajs('kafkajs/src/producer/eosManager') as CreateEosManager;
const { createErrorFromCode } = requireKafkajs('kafkajs/src/protocol/error') as {
  createErrorFromCode(code: number): Error & { type: string };
};
/** Kafka's error codes (kafkajs's protocol/error.js names them). */
const NOT_COORDINATOR = 16;
const INVALID_PRODUCER_EPOCH = 47;
/** FindCoordinator's key types (kafkajs's protocol/coordinatorTypes.js). */
const GROUP = 0;
const TRANSACTION = 1;

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A cluster whose transaction and group coordinators are the nodes named by `coordinators`; a
 * broker that is not (or no longer) the coordinator answers NOT_COORDINATOR, as Kafka's do.
 */
function scriptedCluster() {
  const coordinators = { transaction: 1, group: 1 };
  const lookups: string[] = [];
  const requests: string[] = [];
  /** Errors to answer once, by API, before the coordinator check. */
  const failNext = new Map<string, number>();
  const answer = (nodeId: number, api: string, coordinator: 'transaction' | 'group') => {
    requests.push(`${api}@${nodeId}`);
    const code = failNext.get(api);
    if (code !== undefined) {
      failNext.delete(api);
      throw createErrorFromCode(code);
    }
    if (coordinators[coordinator] !== nodeId) throw createErrorFromCode(NOT_COORDINATOR);
  };
  const broker = (nodeId: number) => ({
    nodeId,
    initProducerId: async () => {
      answer(nodeId, 'InitProducerId', 'transaction');
      return { producerId: 7, producerEpoch: 0 };
    },
    addPartitionsToTxn: async () => answer(nodeId, 'AddPartitionsToTxn', 'transaction'),
    addOffsetsToTxn: async () => answer(nodeId, 'AddOffsetsToTxn', 'transaction'),
    endTxn: async () => answer(nodeId, 'EndTxn', 'transaction'),
    txnOffsetCommit: async () => answer(nodeId, 'TxnOffsetCommit', 'group'),
  });
  const brokers = new Map([1, 2, 3].map((id) => [id, broker(id)]));
  const cluster = {
    retry: { retries: 3, initialRetryTime: 1, maxRetryTime: 5 },
    refreshMetadataIfNecessary: async () => undefined,
    findBroker: async ({ nodeId }: { nodeId: number }) => brokers.get(nodeId),
    findGroupCoordinator: async ({
      groupId,
      coordinatorType,
    }: {
      groupId: string;
      coordinatorType: number;
    }) => {
      lookups.push(`${coordinatorType === TRANSACTION ? 'transaction' : 'group'}:${groupId}`);
      return brokers.get(coordinatorType === GROUP ? coordinators.group : coordinators.transaction);
    },
  };
  return { cluster, coordinators, lookups, requests, failNext };
}

async function runTransaction(eos: EosManager): Promise<void> {
  eos.beginTransaction();
  await eos.addPartitionsToTransaction([{ topic: 'out', partitions: [{ partition: 0 }] }]);
  await eos.sendOffsets({
    consumerGroupId: 'g',
    topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '10' }] }],
  });
  await eos.commit();
}

describe('kafkajs coordinator cache (patch 002)', () => {
  it('finds each coordinator once, and again only after it answers NOT_COORDINATOR, re-sending to the new one', async () => {
    const { cluster, coordinators, lookups, requests } = scriptedCluster();
    const eos = createEosManager({ logger: quietLogger, cluster, transactional: true, transactionalId: 't' });
    await eos.initProducerId();
    await runTransaction(eos);
    await runTransaction(eos);
    expect(lookups).toEqual(['transaction:t', 'group:g']);

    // Both coordinators move (their partitions of __transaction_state and __consumer_offsets got a
    // new leader): the cached node answers NOT_COORDINATOR, the request goes to the new one.
    coordinators.transaction = 2;
    coordinators.group = 3;
    requests.length = 0;
    await runTransaction(eos);
    expect(lookups).toEqual(['transaction:t', 'group:g', 'transaction:t', 'group:g']);
    expect(requests).toEqual([
      'AddPartitionsToTxn@1',
      'AddPartitionsToTxn@2',
      'AddOffsetsToTxn@2',
      'TxnOffsetCommit@1',
      'TxnOffsetCommit@3',
      'EndTxn@2',
    ]);

    requests.length = 0;
    await runTransaction(eos);
    expect(lookups).toHaveLength(4);
    expect(requests).toEqual(['AddPartitionsToTxn@2', 'AddOffsetsToTxn@2', 'TxnOffsetCommit@3', 'EndTxn@2']);
  });

  it('throws any other error as kafkajs did, without a new lookup or a re-send', async () => {
    const { cluster, lookups, requests, failNext } = scriptedCluster();
    const eos = createEosManager({ logger: quietLogger, cluster, transactional: true, transactionalId: 't' });
    await eos.initProducerId();
    failNext.set('EndTxn', INVALID_PRODUCER_EPOCH);
    await expect(runTransaction(eos)).rejects.toMatchObject({ type: 'INVALID_PRODUCER_EPOCH' });
    expect(requests.filter((r) => r.startsWith('EndTxn'))).toEqual(['EndTxn@1']);
    expect(lookups).toEqual(['transaction:t', 'group:g']);
  });
});
