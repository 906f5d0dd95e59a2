// Runs progress ingest (ProgressConsumer) in a worker thread and applies what it reports to the
// metrics and the SSE fan-out. A thread of its own because ingest is CPU work (JSON parsing and
// validation of thousands of events per second): on the API's event loop it held every request
// back behind it, while a thread runs on the second core and leaves the loop to the API.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { QueryMetrics } from '../metrics/query-metrics';
import { QueryRepository } from '../repositories/query.repository';
import {
  progressGroupId,
  type IngestWorkerConfig,
  type MainToWorker,
  type QueryChunkSummary,
  type WorkerToMain,
} from './ingest-messages';
import { ProgressEvents } from './progress-events';
import { clusterName } from '../leadership/cluster-name';

/** How long an unknown query id is remembered as unknown (it may be registered any moment). */
const UNKNOWN_TTL_MS = 10_000;
const RESTART_DELAY_MS = 5000;
const STOP_TIMEOUT_MS = 10_000;

/** The worker's file next to this one: .ts when run from source (tests, `npm run`), else .js. */
function workerEntry(): { file: string; execArgv: string[] } {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `progress-ingest.worker${ext}`);
  return { file, execArgv: ext === '.ts' ? ['--require', '@swc-node/register'] : [] };
}

@Injectable()
export class ProgressIngestService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ProgressIngestService.name);
  private worker: Worker | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly names = new Map<string, string>();
  private readonly unknown = new Map<string, number>();
  private readonly unwatch: () => void;

  constructor(
    private readonly queries: QueryRepository,
    private readonly metrics: QueryMetrics,
    private readonly events: ProgressEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.unwatch = this.events.onWatchedChange((queryIds) => this.send({ type: 'watch', queryIds }));
  }

  onApplicationBootstrap(): void {
    // The worker connects in the background: the API must come up (and report Kafka down on
    // /readyz) even while the broker is unreachable; kafkajs keeps retrying the connection.
    this.startWorker();
  }

  private startWorker(): void {
    const { file, execArgv } = workerEntry();
    const workerData: IngestWorkerConfig = {
      brokers: this.config.KAFKA_BROKERS,
      groupId: progressGroupId(clusterName(this.config)),
      cluster: clusterName(this.config),
      databaseUrl: this.config.DATABASE_URL,
    };
    const worker = new Worker(file, { workerData, execArgv, env: process.env });
    this.worker = worker;
    worker.on('message', (m: WorkerToMain) => void this.onMessage(m));
    worker.on('error', (e) => this.logger.error(`progress ingest worker failed: ${e.message}`));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.closing) return;
      this.logger.error(
        `progress ingest worker exited (code ${code}); restarting in ${RESTART_DELAY_MS / 1000} s`,
      );
      this.restartTimer = setTimeout(() => this.startWorker(), RESTART_DELAY_MS);
    });
    this.send({ type: 'watch', queryIds: this.events.watched() });
  }

  private send(m: MainToWorker): void {
    this.worker?.postMessage(m);
  }

  private async onMessage(m: WorkerToMain): Promise<void> {
    if (m.type === 'log') {
      if (m.level === 'error') this.logger.error(m.message);
      else this.logger.warn(m.message);
    } else if (m.type === 'invalid') {
      this.metrics.progressEvents.inc({ result: 'invalid' }, m.count);
      for (const s of m.samples) this.logger.warn(s);
      if (m.count > m.samples.length)
        this.logger.warn(
          `... and ${m.count - m.samples.length} more invalid progress events in the same fetch`,
        );
    } else if (m.type === 'chunk') {
      this.metrics.progressEvents.inc({ result: 'stored' }, m.stored);
      if (m.unknownQuery > 0) this.metrics.progressEvents.inc({ result: 'unknown_query' }, m.unknownQuery);
      for (const q of m.queries) await this.observe(q);
      for (const e of m.events) this.events.emit(e.id, e);
    }
  }

  private async queryName(queryId: string): Promise<string | undefined> {
    if (!this.names.has(queryId)) {
      if ((this.unknown.get(queryId) ?? 0) > Date.now()) return undefined;
      const name = await this.queries.nameOf(queryId);
      if (name === null) {
        this.unknown.set(queryId, Date.now() + UNKNOWN_TTL_MS);
        return undefined;
      }
      this.names.set(queryId, name);
    }
    return this.names.get(queryId);
  }

  private async observe(s: QueryChunkSummary): Promise<void> {
    const query = await this.queryName(s.queryId);
    if (!query) return;
    if (s.inputRowsPerSecond !== undefined)
      this.metrics.inputRowsPerSecond.set({ query }, s.inputRowsPerSecond);
    if (s.processedRowsPerSecond !== undefined)
      this.metrics.processedRowsPerSecond.set({ query }, s.processedRowsPerSecond);
    for (const d of s.batchDurations) this.metrics.batchDuration.observe({ query }, d);
    if (s.stateRows !== undefined) this.metrics.stateRows.set({ query }, s.stateRows);
    if (s.rateLimit !== undefined) this.metrics.rateLimit.set({ query }, s.rateLimit ?? 0);
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    this.unwatch();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    // A clean stop leaves the consumer group at once (no session timeout for the next owner).
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (m: WorkerToMain) => m.type === 'stopped' && resolve());
      worker.once('exit', () => resolve());
    });
    worker.postMessage({ type: 'stop' } satisfies MainToWorker);
    await Promise.race([stopped, new Promise((r) => setTimeout(r, STOP_TIMEOUT_MS).unref())]);
    await worker.terminate();
  }
}
