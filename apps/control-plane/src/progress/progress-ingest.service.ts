// Consumes `sluice.progress` (one consumer group for the control plane), validates each event with
// the shared contract parser, stores them in batches and updates the query metrics. An invalid
// event is counted and logged with the JSON path at fault; it never stops ingestion.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { parseStreamingQueryProgress, PROGRESS_TOPIC, type StreamingQueryProgress } from '@sluice/contracts';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { QueryMetrics } from '../metrics/query-metrics';
import { PrismaRepository } from '../repositories/prisma.repository';
import { ProgressEvents } from './progress-events';
import { isUuid, ProgressService, type IngestableProgress } from './progress.service';

export const PROGRESS_GROUP = 'sluice-control-plane-progress';
const INGEST_CHUNK = 1000;
/** How long an unknown query id is remembered as unknown (it may be registered any moment). */
const UNKNOWN_TTL_MS = 10_000;

function finiteOrNull(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

function toIngestable(p: StreamingQueryProgress): IngestableProgress {
  const ext = p.sluice;
  return {
    queryId: p.id,
    runId: p.runId,
    batchId: p.batchId,
    instance: ext?.instance ?? null,
    timestamp: new Date(p.timestamp),
    numInputRows: p.numInputRows,
    inputRowsPerSecond: finiteOrNull(p.inputRowsPerSecond),
    processedRowsPerSecond: finiteOrNull(p.processedRowsPerSecond),
    batchDurationMs: p.batchDuration ?? p.durationMs?.triggerExecution ?? null,
    payload: p,
  };
}

@Injectable()
export class ProgressIngestService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ProgressIngestService.name);
  private consumer: Consumer | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly names = new Map<string, string>();
  private readonly unknown = new Map<string, number>();

  constructor(
    private readonly progress: ProgressService,
    private readonly prisma: PrismaRepository,
    private readonly metrics: QueryMetrics,
    private readonly events: ProgressEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Started in the background: the API must come up (and report Kafka down on /readyz) even
    // while the broker is unreachable; kafkajs keeps retrying the connection.
    this.launch();
  }

  private launch(): void {
    void this.start().catch((e: Error) => {
      this.logger.error(`progress ingest failed to start (retrying in 5 s): ${e.message}`);
      this.retryLater();
    });
  }

  private retryLater(): void {
    if (this.closing) return;
    const old = this.consumer;
    this.consumer = undefined;
    void old?.disconnect().catch(() => undefined);
    this.retryTimer = setTimeout(() => this.launch(), 5000);
  }

  private async start(): Promise<void> {
    const kafka = createKafka({ brokers: parseBrokers(this.config.KAFKA_BROKERS), clientId: 'sluice-control-plane-progress' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [{ topic: PROGRESS_TOPIC, numPartitions: 3 }]);
    } finally {
      await admin.disconnect();
    }
    // Large fetches: ingest cost is per batch (two SQL statements), so bigger batches go faster.
    const consumer = kafka.consumer({ groupId: PROGRESS_GROUP, sessionTimeout: 15_000, heartbeatInterval: 1000, maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 });
    this.consumer = consumer;
    // kafkajs gives up on non-retriable errors (e.g. a metadata race right after topic creation)
    // without restarting: start over so ingest never silently stops.
    consumer.on(consumer.events.CRASH, (e) => {
      this.logger.error(`progress consumer crashed: ${e.payload.error.message}`);
      if (!e.payload.restart) this.retryLater();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: PROGRESS_TOPIC, fromBeginning: false });
    await consumer.run({ eachBatchAutoResolve: true, eachBatch: (b) => this.onBatch(b) });
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    // Chunks keep each synchronous stretch (JSON parsing + validation) short, so API requests
    // are served in between even when a fetch brings thousands of events. Up to two chunks are
    // written at once: parsing the next chunk overlaps the database insert of the previous one.
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < batch.messages.length; i += INGEST_CHUNK) {
      const valid = this.parseChunk(batch.topic, batch.partition, batch.messages.slice(i, i + INGEST_CHUNK));
      const previous = inFlight.at(-1) ?? Promise.resolve();
      inFlight.push(this.storeChunk(valid, previous));
      if (inFlight.length >= 2) await inFlight.shift();
      await heartbeat();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all(inFlight);
  }

  private parseChunk(topic: string, partition: number, messages: KafkaMessage[]): IngestableProgress[] {
    const valid: IngestableProgress[] = [];
    for (const m of messages) {
      try {
        const raw: unknown = JSON.parse(m.value?.toString('utf8') ?? 'null');
        valid.push(toIngestable(parseStreamingQueryProgress(raw)));
      } catch (e) {
        this.metrics.progressEvents.inc({ result: 'invalid' });
        this.logger.warn(`invalid progress event at ${topic}/${partition}@${m.offset}: ${(e as Error).message}`);
      }
    }
    return valid;
  }

  /** Stores a chunk; observes it (metrics, SSE) only after the previous chunk, to keep order. */
  private async storeChunk(valid: IngestableProgress[], previous: Promise<void>): Promise<void> {
    const stored = await this.progress.store(valid);
    await previous;
    this.metrics.progressEvents.inc({ result: 'stored' }, stored);
    if (valid.length > stored) this.metrics.progressEvents.inc({ result: 'unknown_query' }, valid.length - stored);
    for (const e of valid) await this.observe(e);
  }

  private async queryName(queryId: string): Promise<string | undefined> {
    if (!isUuid(queryId)) return undefined;
    if (!this.names.has(queryId)) {
      if ((this.unknown.get(queryId) ?? 0) > Date.now()) return undefined;
      const q = await this.prisma.query.findUnique({ where: { id: queryId }, select: { name: true } });
      if (!q) {
        this.unknown.set(queryId, Date.now() + UNKNOWN_TTL_MS);
        return undefined;
      }
      this.names.set(queryId, q.name);
    }
    return this.names.get(queryId);
  }

  private async observe(e: IngestableProgress): Promise<void> {
    const query = await this.queryName(e.queryId);
    if (!query) return;
    const p = e.payload as StreamingQueryProgress;
    if (e.inputRowsPerSecond !== null) this.metrics.inputRowsPerSecond.set({ query }, e.inputRowsPerSecond);
    if (e.processedRowsPerSecond !== null) this.metrics.processedRowsPerSecond.set({ query }, e.processedRowsPerSecond);
    if (e.batchDurationMs !== null) this.metrics.batchDuration.observe({ query }, e.batchDurationMs / 1000);
    const stateRows = (p.stateOperators ?? []).reduce((n, s) => n + (s.numRowsTotal ?? 0), 0);
    this.metrics.stateRows.set({ query }, stateRows);
    if (p.sluice?.rateLimit !== undefined) this.metrics.rateLimit.set({ query }, p.sluice.rateLimit ?? 0);
    this.events.emit(e.queryId, p);
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
