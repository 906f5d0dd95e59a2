// `npm run -s bench:txn -- [--transactions 40] [--tasks 4] [--rows 250] [--gap-ms 10] [--retry engine|kafkajs] [--json]`
// What one batch's Kafka transaction costs, request by request: `--tasks` producers configured as
// the engine's task producers (kafka-output-log.taskProducerConfig) each run `--transactions`
// transactions as the engine's kafka-group commit does (records to a 3-partition output topic,
// the marker offset with TxnOffsetCommit, EndTxn), concurrently, `--gap-ms` apart (the engine's
// work between two batches of a task). kafkajs' request events give every round trip with its
// time; its error log counts the CONCURRENT_TRANSACTIONS answers (each costs a retry wait).
// `--retry kafkajs` runs the same with kafkajs' default send retry (300 ms first) to compare.
// Uses the running stack's broker (no stack start); deletes its topics at the end.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Producer, ProducerConfig } from 'kafkajs';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { taskProducerConfig } from '../../apps/engine/src/exec/kafka-output-log';
import { markerMetadata } from '../../apps/engine/src/exec/output-log';

const { values } = parseArgs({
  options: {
    transactions: { type: 'string', default: '40' },
    tasks: { type: 'string', default: '4' },
    rows: { type: 'string', default: '250' },
    'gap-ms': { type: 'string', default: '10' },
    retry: { type: 'string', default: 'engine' },
    json: { type: 'boolean', default: false },
  },
});

function intFlag(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`bench:txn: --${name} must be an integer from ${min} to ${max}\n`);
    process.exit(1);
  }
  return n;
}
const TRANSACTIONS = intFlag('transactions', values.transactions, 1, 10_000);
const TASKS = intFlag('tasks', values.tasks, 1, 64);
const ROWS = intFlag('rows', values.rows, 0, 100_000);
const GAP_MS = intFlag('gap-ms', values['gap-ms'], 0, 60_000);
if (values.retry !== 'engine' && values.retry !== 'kafkajs') {
  process.stderr.write(`bench:txn: --retry must be 'engine' or 'kafkajs' (got '${values.retry}')\n`);
  process.exit(1);
}
const log = (m: string): void => {
  if (!values.json) process.stderr.write(`[bench:txn] ${m}\n`);
};

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
};
const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const markerOffset = (
  partition: number,
  offset: number,
  batch: number,
): { partition: number; offset: string } =>
  ({ partition, offset: String(offset), metadata: markerMetadata(batch) }) as {
    partition: number;
    offset: string;
  };

interface Request {
  api: string;
  ms: number;
}

async function main(): Promise<void> {
  const loadBefore = load();
  let concurrentTransactions = 0;
  const env = stackEnv(loadStackConfig());
  const kafka = createKafka({
    brokers: parseBrokers(env.KAFKA_BROKERS),
    clientId: 'bench-txn',
    onLog: (_level, message) => {
      if (/concurrent operation on the same transaction/i.test(message)) concurrentTransactions++;
    },
  });
  const run = randomUUID();
  const input = `bench-txn-in-${run}`;
  const output = `bench-txn-out-${run}`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { topic: input, numPartitions: TASKS },
    { topic: output, numPartitions: 3 },
  ]);
  const txnMs: number[] = [];
  const requests: Request[] = [];
  const producers: Producer[] = [];
  try {
    for (let task = 0; task < TASKS; task++) {
      const config: ProducerConfig = taskProducerConfig(`bench-txn-${run}`, `src.in.${task}`);
      if (values.retry === 'kafkajs') delete config.retry;
      const producer = kafka.producer(config);
      await producer.connect();
      // Fenced and initialised as openTaskProducer does, before anything is measured.
      await (await producer.transaction()).abort();
      producer.on(producer.events.REQUEST, (e) =>
        requests.push({ api: e.payload.apiName, ms: e.payload.duration }),
      );
      producers.push(producer);
    }
    log(
      `${TASKS} task producers × ${TRANSACTIONS} transactions of ${ROWS} records, ${GAP_MS} ms apart, retry=${values.retry}`,
    );
    await Promise.all(
      producers.map(async (producer, partition) => {
        for (let batch = 0; batch < TRANSACTIONS; batch++) {
          const messages = Array.from({ length: ROWS }, (_, i) => ({
            key: `user-${i % 97}`,
            value: JSON.stringify({ id: batch * ROWS + i, user_id: `user-${i % 97}`, bytes: 1000 + i }),
          }));
          const t = performance.now();
          const txn = await producer.transaction();
          try {
            if (messages.length > 0) await txn.send({ topic: output, messages });
            await txn.sendOffsets({
              consumerGroupId: `bench-txn-${run}`,
              topics: [
                {
                  topic: input,
                  // kafkajs passes `metadata` through although its types omit it (kafka-output-log.ts).
                  partitions: [markerOffset(partition, (batch + 1) * ROWS, batch)],
                },
              ],
            });
            await txn.commit();
          } catch (err) {
            await txn.abort().catch(() => undefined);
            throw err;
          }
          txnMs.push(performance.now() - t);
          if (GAP_MS > 0) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
        }
      }),
    );
  } finally {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    await admin.disconnect();
  }
  const transactions = TASKS * TRANSACTIONS;
  const apis = [...new Set(requests.map((r) => r.api))].sort();
  const result = {
    tasks: TASKS,
    transactionsPerTask: TRANSACTIONS,
    recordsPerTransaction: ROWS,
    gapMs: GAP_MS,
    retry: values.retry,
    transactionP50Ms: Math.round(pct(txnMs, 0.5)),
    transactionP90Ms: Math.round(pct(txnMs, 0.9)),
    transactionMaxMs: Math.round(Math.max(...txnMs)),
    concurrentTransactionsRetries: concurrentTransactions,
    /** Round trips per transaction by API (kafkajs request events), with their median and p90 time. */
    requests: Object.fromEntries(
      apis.map((api) => {
        const ms = requests.filter((r) => r.api === api).map((r) => r.ms);
        return [
          api,
          {
            perTransaction: +(ms.length / transactions).toFixed(2),
            p50Ms: Math.round(pct(ms, 0.5)),
            p90Ms: Math.round(pct(ms, 0.9)),
          },
        ];
      }),
    ),
    load: { before: loadBefore, after: load() },
  };
  process.stdout.write(`${JSON.stringify(result, null, values.json ? undefined : 2)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench:txn: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
