// Runs a batch's per-record path over synthetic records of the source's schema, in memory, before
// the instance joins its group: the record decoding of a fetch response (kafkajs's record-batch
// decoder), the source stage (decode, WHERE, projection or keying), the sink's staging and the
// produce request's record encoding. Nothing is read, written or committed, and the results are
// dropped.
//
// Why: a new process runs its first batch with V8 still interpreting that path, and during a
// scale-out the partitions the rebalance moved to it wait for that batch while their lag grows.
// Under a 0.1-CPU limit a first batch of 5,000 rows took 5.0 s cold and 2.5 s after this warm-up
// (BENCHMARKS.md, "A new engine's first batch"). Run here, the cost is paid before the instance
// takes any partition, where the scaling loop's measured lead (RestartCost.onlineSeconds) counts it.
//
// What it does not warm: a stateful plan's second stage (its state store), a stream–static join
// (its table is not loaded yet), the PostgreSQL and file sinks' writes, and the transaction's
// requests.
import type { KafkaMessage, Message } from 'kafkajs';
import type { ColumnType, QueryExecutor, SourceSpec } from '@sluice/query-plan';
import type { Sink } from '../sinks/sink';
import { emptyOutput } from '../sinks/sink';
import { toSourceRecord } from '../source/group-reader';
import type { RowGuard } from './record-guards';
import type { RepartitionFormat } from './shuffle-codec';
import { runSourceStage } from './source-stage';

/** Records warmed by default: the first batch of a process that has measured nothing is 5,000. */
export const DEFAULT_WARMUP_RECORDS = 5_000;
/** Largest `--warm-up-records`: beyond this the start-up costs more than any first batch. */
export const MAX_WARMUP_RECORDS = 100_000;
/** Records per round: as a batch is split into fetches of many record batches. */
const ROUND_RECORDS = 500;

// kafkajs's own encoder and decoder modules, by plain `require`: the engine bundle then holds one
// copy of each file, the one its producer and consumer run, so warming these warms theirs. (A
// createRequire would load node_modules' copy beside the bundle's, warming nothing the engine
// runs, and fail where the bundle has no node_modules.) kafkajs ships no types for these files.
/* eslint-disable @typescript-eslint/no-require-imports */
interface EncoderLike {
  buffer: Buffer;
}
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Record<string, string>;
}) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: {
    records: unknown[];
    firstTimestamp: number;
    maxTimestamp: number;
    lastOffsetDelta: number;
  }) => Promise<EncoderLike>;
};
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as (
  decoder: unknown,
) => Promise<KafkaMessage[]>;
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: {
  acks: number;
  timeout: number;
  topicData: Array<{ topic: string; partitions: Array<{ partition: number; messages: Message[] }> }>;
}) => { encode(): Promise<EncoderLike> };
/* eslint-enable @typescript-eslint/no-require-imports */

const FIXED_EPOCH_MS = Date.UTC(2026, 0, 1);

function syntheticValue(type: ColumnType, i: number): string | number | boolean {
  switch (type) {
    case 'string':
      return `w${i % 977}`;
    case 'long':
    case 'int':
      return i % 100_000;
    case 'double':
      return (i % 1000) / 8;
    case 'boolean':
      return i % 2 === 0;
    case 'timestamp':
      return new Date(FIXED_EPOCH_MS + i * 1000).toISOString();
  }
}

/** The i-th synthetic record value of `source`, in its format; every column set. */
export function syntheticRecordValue(source: SourceSpec, i: number): string {
  if (source.format === 'raw') return `warm-up record ${i}`;
  const entries = Object.entries(source.schema);
  if (source.format === 'json')
    return JSON.stringify(Object.fromEntries(entries.map(([name, type]) => [name, syntheticValue(type, i)])));
  return entries.map(([, type]) => String(syntheticValue(type, i))).join(',');
}

export interface WarmupArgs {
  queryId: string;
  source: SourceSpec;
  /** The source's topic, as the records name it. */
  topic: string;
  executor: QueryExecutor;
  sink: Sink;
  guard: RowGuard | undefined;
  numShufflePartitions: number;
  repartition?: { topic: string; maxMessageBytes: number; format: RepartitionFormat };
  dlqMaxRecordBytes: number;
  records: number;
  /** Checked between rounds: a stop asked for during the start ends the warm-up. */
  stopped?: () => boolean;
}

export interface WarmupResult {
  /** Synthetic records run through the path (0: skipped, see `skipped`). */
  records: number;
  /** Of them, rows the source stage produced (the rest filtered out or dead-lettered). */
  rows: number;
  /** Bytes of the produce requests the output encoded to (then dropped). */
  encodedBytes: number;
  elapsedMs: number;
  skipped?: string;
}

/** Why this plan's path cannot be warmed without its inputs, or undefined. */
export function warmupSkipReason(executor: QueryExecutor): string | undefined {
  return executor.staticJoin ? 'a stream–static join needs its table, loaded later' : undefined;
}

/** Runs `args.records` synthetic records through the batch path in rounds; see the file comment. */
export async function warmBatchPath(args: WarmupArgs): Promise<WarmupResult> {
  const started = Date.now();
  const skipped = warmupSkipReason(args.executor);
  if (skipped || args.records <= 0)
    return { records: 0, rows: 0, encodedBytes: 0, elapsedMs: 0, skipped: skipped ?? 'disabled (0 records)' };
  let done = 0;
  let rows = 0;
  let encodedBytes = 0;
  while (done < args.records && !args.stopped?.()) {
    const n = Math.min(ROUND_RECORDS, args.records - done);
    const records = await decodedRecords(args, done, n);
    const res = runSourceStage({
      queryId: args.queryId,
      source: args.source,
      executor: args.executor,
      numShufflePartitions: args.numShufflePartitions,
      records,
      guard: args.guard,
      repartition: args.repartition,
      dlqMaxRecordBytes: args.dlqMaxRecordBytes,
    });
    rows += res.rows.length;
    const output = emptyOutput();
    if (args.repartition) output.kafka.push({ topic: args.repartition.topic, messages: res.shuffled });
    else args.sink.stage(res.rows, output, () => ({ value: null }));
    const topicData = output.kafka
      .filter((o) => o.messages.length > 0)
      .map((o) => ({ topic: o.topic, partitions: [{ partition: 0, messages: o.messages }] }));
    if (topicData.length > 0)
      encodedBytes += (await produceV3({ acks: -1, timeout: 30_000, topicData }).encode()).buffer.length;
    done += n;
    // Yields between rounds: the start's other work (heartbeats, signals) is not held up.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { records: done, rows, encodedBytes, elapsedMs: Date.now() - started };
}

/** `n` synthetic records from `from` on, encoded as one record batch and decoded back. */
async function decodedRecords(args: WarmupArgs, from: number, n: number) {
  const now = Date.now();
  const batch = await RecordBatch({
    records: Array.from({ length: n }, (_, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: 0,
        key: null,
        value: syntheticRecordValue(args.source, from + i),
        headers: {},
      }),
    ),
    firstTimestamp: now,
    maxTimestamp: now,
    lastOffsetDelta: n - 1,
  });
  // A fetch response's record set: its size, then the batch (decodeMessages reads both).
  const size = Buffer.alloc(4);
  size.writeInt32BE(batch.buffer.length);
  const messages = await decodeMessages(new Decoder(Buffer.concat([size, batch.buffer])));
  return messages.map((m) => toSourceRecord(args.topic, 0, m));
}
