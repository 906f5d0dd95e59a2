// The progress ingest proper, run inside the ingest worker thread: consumes `sluice.progress`
// (one consumer group for the control plane), validates each event with the shared contract
// parser, stores them in chunks and reports per-chunk summaries. An invalid event is counted and
// reported with the JSON path at fault; it never stops ingestion.
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { parseStreamingQueryProgress, PROGRESS_TOPIC, type StreamingQueryProgress } from '@sluice/contracts';
import { createKafka, ensureTopicsWith, parseBrokers } from '@sluice/kafka';
import {
  PROGRESS_GROUP,
  type IngestWorkerConfig,
  type QueryChunkSummary,
  type WorkerToMain,
} from './ingest-messages';
import { ProgressWriter, type IngestableProgress } from './progress-writer';

/**
 * Events per insert transaction. Small on purpose: a 1,000-row statement kept a PostgreSQL
 * backend busy for ~100 ms, and while two or three of those ran, API reads on the same 2 cores
 * stalled for as long (bench:ingest, before COPY: API p99 108-250 ms with 1,000 rows at 3
 * partitions, 38 ms with 250 rows at 2, at the same or better ingest rate).
 */
const INGEST_CHUNK = 250;
/** Partitions of the progress topic processed at once (one insert connection each). */
const CONCURRENT_PARTITIONS = 2;
/** Invalid events quoted per report (all are counted). */
const INVALID_SAMPLES = 3;

interface ParsedProgress {
  event: StreamingQueryProgress;
  row: IngestableProgress;
}

function finiteOrNull(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

function toIngestable(p: StreamingQueryProgress, text: string): IngestableProgress {
  return {
    queryId: p.id,
    runId: p.runId,
    batchId: p.batchId,
    instance: p.sluice?.instance ?? null,
    timestamp: new Date(p.timestamp),
    numInputRows: p.numInputRows,
    inputRowsPerSecond: finiteOrNull(p.inputRowsPerSecond),
    processedRowsPerSecond: finiteOrNull(p.processedRowsPerSecond),
    batchDurationMs: p.batchDuration ?? p.durationMs?.triggerExecution ?? null,
    // The parser keeps every field as it came, so the received text is the stored payload.
    payloadJson: text,
  };
}

/** Folds a stored chunk into per-query metric updates (last gauge values, every duration). */
export function summarise(valid: ParsedProgress[], storedIds: ReadonlySet<string>): QueryChunkSummary[] {
  const byQuery = new Map<string, QueryChunkSummary>();
  for (const { event: p, row: e } of valid) {
    const id = e.queryId.toLowerCase();
    if (!storedIds.has(id)) continue;
    let s = byQuery.get(id);
    if (!s) byQuery.set(id, (s = { queryId: id, batchDurations: [] }));
    if (e.inputRowsPerSecond !== null) s.inputRowsPerSecond = e.inputRowsPerSecond;
    if (e.processedRowsPerSecond !== null) s.processedRowsPerSecond = e.processedRowsPerSecond;
    if (e.batchDurationMs !== null) s.batchDurations.push(e.batchDurationMs / 1000);
    s.stateRows = (p.stateOperators ?? []).reduce((n, op) => n + (op.numRowsTotal ?? 0), 0);
    if (p.sluice?.rateLimit !== undefined) s.rateLimit = p.sluice.rateLimit;
  }
  return [...byQuery.values()];
}

export class ProgressConsumer {
  private consumer: Consumer | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly writer: ProgressWriter;
  private watched = new Set<string>();

  constructor(
    private readonly config: IngestWorkerConfig,
    private readonly report: (message: WorkerToMain) => void,
  ) {
    this.writer = new ProgressWriter(config.databaseUrl, CONCURRENT_PARTITIONS, config.cluster);
  }

  /** Query ids whose events go back to the main thread in full (for SSE subscribers). */
  watch(queryIds: string[]): void {
    this.watched = new Set(queryIds.map((id) => id.toLowerCase()));
  }

  launch(): void {
    void this.start().catch((e: Error) => {
      this.report({
        type: 'log',
        level: 'error',
        message: `progress ingest failed to start (retrying in 5 s): ${e.message}`,
      });
      this.retryLater();
    });
  }

  private retryLater(): void {
    if (this.closing) return;
    const old = this.consumer;
    this.consumer = undefined;
    // The consumer being replaced has already failed; a failing disconnect has nothing left to tell.
    void old?.disconnect().catch(() => undefined);
    this.retryTimer = setTimeout(() => this.launch(), 5000);
  }

  private async start(): Promise<void> {
    const kafka = createKafka({
      brokers: parseBrokers(this.config.brokers),
      clientId: 'sluice-control-plane-progress',
    });
    await ensureTopicsWith(kafka, [{ topic: PROGRESS_TOPIC, numPartitions: 3 }]);
    const consumer = kafka.consumer({
      groupId: this.config.groupId ?? PROGRESS_GROUP,
      sessionTimeout: 15_000,
      heartbeatInterval: 1000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 16 * 1024 * 1024,
    });
    this.consumer = consumer;
    // kafkajs gives up on non-retriable errors (e.g. a metadata race right after topic creation)
    // without restarting: start over so ingest never silently stops.
    consumer.on(consumer.events.CRASH, (e) => {
      this.report({
        type: 'log',
        level: 'error',
        message: `progress consumer crashed: ${e.payload.error.message}`,
      });
      if (!e.payload.restart) this.retryLater();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: PROGRESS_TOPIC, fromBeginning: false });
    // Partitions in parallel: one partition's insert overlaps another's fetch and parsing.
    await consumer.run({
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: CONCURRENT_PARTITIONS,
      eachBatch: (b) => this.onBatch(b),
    });
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    for (let i = 0; i < batch.messages.length; i += INGEST_CHUNK) {
      const valid = this.parseChunk(batch.topic, batch.partition, batch.messages.slice(i, i + INGEST_CHUNK));
      await this.storeChunk(valid);
      await heartbeat();
    }
  }

  private parseChunk(topic: string, partition: number, messages: KafkaMessage[]): ParsedProgress[] {
    const valid: ParsedProgress[] = [];
    const invalid: string[] = [];
    let invalidCount = 0;
    for (const m of messages) {
      try {
        const text = m.value?.toString('utf8') ?? 'null';
        const event = parseStreamingQueryProgress(JSON.parse(text));
        valid.push({ event, row: toIngestable(event, text) });
      } catch (e) {
        invalidCount++;
        if (invalid.length < INVALID_SAMPLES)
          invalid.push(
            `invalid progress event at ${topic}/${partition}@${m.offset}: ${(e as Error).message}`,
          );
      }
    }
    if (invalidCount > 0) this.report({ type: 'invalid', count: invalidCount, samples: invalid });
    return valid;
  }

  private async storeChunk(valid: ParsedProgress[]): Promise<void> {
    const { stored: storedPerQuery, rejected } = await this.writer.insert(valid.map((v) => v.row));
    if (rejected.length > 0) {
      const samples = rejected
        .slice(0, INVALID_SAMPLES)
        .map(
          (r) =>
            `progress event of query ${r.event.queryId} batch ${r.event.batchId} refused by PostgreSQL: ${r.reason}`,
        );
      this.report({ type: 'invalid', count: rejected.length, samples });
    }
    const stored = [...storedPerQuery.values()].reduce((a, b) => a + b, 0);
    const storedIds = new Set(storedPerQuery.keys());
    this.report({
      type: 'chunk',
      stored,
      unknownQuery: valid.length - stored - rejected.length,
      queries: summarise(valid, storedIds),
      events:
        this.watched.size === 0
          ? []
          : valid.filter((v) => this.watched.has(v.row.queryId.toLowerCase())).map((v) => v.event),
    });
  }

  async stop(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.consumer
      ?.disconnect()
      .catch((e: Error) =>
        this.report({ type: 'log', level: 'warn', message: `progress consumer disconnect: ${e.message}` }),
      );
    await this.writer
      .close()
      .catch((e: Error) =>
        this.report({ type: 'log', level: 'warn', message: `progress writer close: ${e.message}` }),
      );
  }
}
