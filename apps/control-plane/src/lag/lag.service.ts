// Per-partition lag of a query's consumer group: records behind from kafkajs admin (committed vs
// log-end offsets) and seconds behind from offset→time tables sampled by a background poller.
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
import { PrismaRepository } from '../repositories/prisma.repository';
import { sourceTopics } from '../queries/spec-fields';
import { OffsetTimeTable } from './offset-time-table';
// The consumer group the engine instances of a query join: the contract's name, as the engine uses it.
import { engineGroupId } from '@sluice/contracts';

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
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kafka: KafkaAdminRepository,
    private readonly prisma: PrismaRepository,
    private readonly metrics: QueryMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.poll(), 5000);
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
      const queries = await this.prisma.query.findMany({
        where: { deletedAt: null, desiredState: 'RUNNING' },
      });
      for (const q of queries) {
        const lag = await this.lagOf(q.id);
        for (const p of lag) {
          const labels = { query: q.name, topic: p.topic, partition: String(p.partition) };
          this.metrics.lagRecords.set(labels, p.recordsBehind);
          if (p.secondsBehind !== null) this.metrics.lagSeconds.set(labels, p.secondsBehind);
        }
      }
    } catch (e) {
      this.logger.debug(`lag poll failed: ${(e as Error).message}`);
    }
  }

  async lagOf(queryId: string): Promise<PartitionLag[]> {
    const q = await this.prisma.query.findUnique({ where: { id: queryId } });
    if (!q) return [];
    const version = await this.prisma.queryVersion.findUnique({
      where: { queryId_version: { queryId, version: q.desiredVersion } },
    });
    const topics = sourceTopics(version?.spec);
    const admin = await this.kafka.connected();
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return [];
    const committed = await admin.fetchOffsets({ groupId: engineGroupId(queryId), topics: present });
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
