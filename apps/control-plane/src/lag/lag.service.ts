// Per-partition lag of a query's consumer group: records behind from kafkajs admin (committed vs
// log-end offsets) and seconds behind from offset→time tables sampled by a background poller.
import { sourceTopics } from '@sluice/query-plan';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { QueryMetrics } from '../metrics/query-metrics';
import { KafkaAdminRepository } from '../repositories/kafka-admin.repository';
import { QueryRepository } from '../repositories/query.repository';
import { clusterName } from '../leadership/cluster-name';
import { throttledErrorLog } from '../logging/throttled-error-log';
import { OffsetTimeTable } from './offset-time-table';
import { stableMembers } from './group-members';
// The consumer group the engine instances of a query join: the contract's name, as the engine uses it.
import { checkpointScope, engineGroupId } from '@sluice/contracts';

const POLL_INTERVAL_MS = 5000;

export interface LagReading {
  readonly partitions: PartitionLag[];
  /** When the offsets were read. */
  readonly readAtMs: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number | null;
  endOffset: number;
  recordsBehind: number;
  secondsBehind: number | null;
}

@Injectable()
export class LagService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LagService.name);
  private readonly tables = new Map<string, OffsetTimeTable>();
  /** Records behind per query as of the last poll, for readers that must not call Kafka themselves. */
  private readonly lastTotals = new Map<string, { records: number; at: number }>();
  /** Source topics of each query found missing by its last lag read (the engine waits for them). */
  private readonly missingTopics = new Map<string, { topics: string[]; at: number }>();
  /** Per-partition lag of each query as of the last poll: the alert evaluator reads it from here
   * instead of asking Kafka a second time. */
  private readonly lastLag = new Map<string, LagReading>();
  private readonly logPollError = throttledErrorLog((m) => this.logger.warn(`lag poll failed: ${m}`));
  private readonly logGroupError = throttledErrorLog((m) =>
    this.logger.warn(`consumer group not described (readiness from progress alone): ${m}`),
  );
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kafka: KafkaAdminRepository,
    private readonly queries: QueryRepository,
    private readonly metrics: QueryMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.poll(), POLL_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private table(topic: string, partition: number): OffsetTimeTable {
    const key = `${topic}/${partition}`;
    let t = this.tables.get(key);
    if (!t) {
      t = new OffsetTimeTable();
      this.tables.set(key, t);
    }
    return t;
  }

  /** Samples log-end offsets of every running query's topics and refreshes the lag gauges. */
  async poll(): Promise<void> {
    try {
      // This cluster's running queries: another cluster's control planes poll their own.
      const queries = await this.queries.listWantedRunning(clusterName(this.config));
      const live = new Set(queries.map((q) => q.id));
      for (const map of [this.lastTotals, this.lastLag, this.missingTopics])
        for (const id of map.keys()) if (!live.has(id)) map.delete(id);
      for (const q of queries) {
        const lag = await this.lagOf(q.id);
        const at = Date.now();
        this.lastTotals.set(q.id, { records: lag.reduce((n, p) => n + p.recordsBehind, 0), at });
        this.lastLag.set(q.id, { partitions: lag, readAtMs: at });
        for (const p of lag) {
          const labels = { query: q.name, topic: p.topic, partition: String(p.partition) };
          this.metrics.lagRecords.set(labels, p.recordsBehind);
          if (p.secondsBehind !== null) this.metrics.lagSeconds.set(labels, p.secondsBehind);
        }
      }
    } catch (e) {
      // Lag feeds Stalled, the scaling loop and alerts: an operator must see that it is missing.
      this.logPollError(e as Error);
    }
  }

  /**
   * Records behind across the query's partitions as of the last poll; null when unknown or older
   * than three polls (Kafka unreachable, or the query just started), so nothing acts on stale lag.
   */
  recordsBehind(queryId: string): number | null {
    const t = this.lastTotals.get(queryId);
    return t && Date.now() - t.at <= 3 * POLL_INTERVAL_MS ? t.records : null;
  }

  /**
   * The query's source topics that did not exist at the last poll; null when unknown or older than
   * three polls. An engine waits for a missing topic and says so only in its log, so the reconciler
   * shows it as a condition the user can act on.
   */
  missingSourceTopics(queryId: string): string[] | null {
    const m = this.missingTopics.get(queryId);
    return m && Date.now() - m.at <= 3 * POLL_INTERVAL_MS ? m.topics : null;
  }

  /** The per-partition lag of the last poll; undefined when unknown or older than three polls. */
  recentLag(queryId: string, nowMs = Date.now()): LagReading | undefined {
    const r = this.lastLag.get(queryId);
    return r && nowMs - r.readAtMs <= 3 * POLL_INTERVAL_MS ? r : undefined;
  }

  /**
   * The instances that are members of the query's (source) consumer group while it is Stable;
   * undefined while it rebalances or when it cannot be read (the caller then has progress alone).
   */
  async joinedInstances(q: {
    id: string;
    checkpointEpoch: number;
  }): Promise<ReadonlySet<string> | undefined> {
    const groupId = engineGroupId(checkpointScope(q.id, q.checkpointEpoch));
    try {
      const admin = await this.kafka.connected();
      const { groups } = await admin.describeGroups([groupId]);
      return stableMembers(groups.find((g) => g.groupId === groupId));
    } catch (e) {
      this.logGroupError(e as Error);
      return undefined;
    }
  }

  async lagOf(queryId: string): Promise<PartitionLag[]> {
    const q = await this.queries.find(queryId);
    if (!q) return [];
    const version = await this.queries.findVersion(queryId, q.desiredVersion);
    const topics = sourceTopics(version?.spec);
    const admin = await this.kafka.connected();
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    this.missingTopics.set(queryId, { topics: topics.filter((t) => !existing.has(t)), at: Date.now() });
    if (present.length === 0) return [];
    // The group of the checkpoint lineage the desired version runs on (a new-checkpoint upgrade
    // starts a group of its own).
    const groupId = engineGroupId(checkpointScope(queryId, q.checkpointEpoch));
    const committed = await admin.fetchOffsets({ groupId, topics: present });
    const now = Date.now();
    const out: PartitionLag[] = [];
    for (const topic of present) {
      const ends = await admin.fetchTopicOffsets(topic);
      const group = committed.find((c) => c.topic === topic);
      for (const e of ends) {
        const end = Number(e.high);
        const table = this.table(topic, e.partition);
        table.add(end, now);
        const c = Number(group?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1);
        const committedOffset = c >= 0 ? c : null;
        const from = committedOffset ?? Number(e.low);
        out.push({
          topic,
          partition: e.partition,
          committedOffset,
          endOffset: end,
          recordsBehind: Math.max(0, end - from),
          secondsBehind: table.lagSeconds(from, now),
        });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }
}
