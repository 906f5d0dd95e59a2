// Progress retention: the cluster's leader keeps each of its queries' newest
// SLUICE_PROGRESS_RETENTION events and deletes the rest, every SLUICE_PROGRESS_TRIM_INTERVAL_MS,
// off the ingest path (ingest only inserts). The work of one pass is bounded: at most
// QUERIES_PER_PASS queries (round-robin over the cluster's queries, so every query's turn comes)
// and ROWS_PER_QUERY deleted rows each; a backlog larger than that goes over the next passes.
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { clusterName } from '../leadership/cluster-name';
import { LeaderElection } from '../leadership/leader-election.service';
import { LeaderTick } from '../leadership/leader-tick';
import { ProgressRepository } from '../repositories/progress.repository';
import { QueryRepository } from '../repositories/query.repository';

const INTERVAL_NAME = 'progress-retention';
export const QUERIES_PER_PASS = 100;
export const ROWS_PER_QUERY = 10_000;

export interface RetentionPass {
  readonly queries: number;
  readonly deleted: number;
  readonly failed: number;
}

@Injectable()
export class ProgressRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ProgressRetention.name);
  /** The last query id of the previous page: the next pass continues after it. */
  private cursor: string | null = null;
  private running = false;

  constructor(
    @Inject(ProgressRepository) private readonly progress: Pick<ProgressRepository, 'trimToNewest'>,
    @Inject(QueryRepository) private readonly queries: Pick<QueryRepository, 'pageIds'>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LeaderElection) private readonly leadership: Pick<LeaderElection, 'isLeader'>,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.ticker = new LeaderTick({
      name: INTERVAL_NAME,
      everyMs: config.SLUICE_PROGRESS_TRIM_INTERVAL_MS,
      leadership,
      work: () => this.pass(),
      warn: (m) => this.logger.warn(m),
      scheduler,
    });
  }

  /** Only the leader trims: replicas would delete the same rows twice over. */
  private readonly ticker: LeaderTick;

  onApplicationBootstrap(): void {
    this.ticker.start();
  }

  async onModuleDestroy(): Promise<void> {
    // A pass under way finishes before the database connections close.
    await this.ticker.stop();
  }

  /** One bounded pass; a pass still under way makes this a no-op. Failures are logged, never thrown. */
  async pass(): Promise<RetentionPass> {
    if (this.running) return { queries: 0, deleted: 0, failed: 0 };
    this.running = true;
    let deleted = 0;
    let failed = 0;
    let ids: string[] = [];
    try {
      ids = await this.queries.pageIds(clusterName(this.config), this.cursor, QUERIES_PER_PASS);
      // A short page is the end of the round: the next pass starts from the first query again.
      this.cursor = ids.length < QUERIES_PER_PASS ? null : ids[ids.length - 1]!;
      for (const id of ids) {
        try {
          deleted += await this.progress.trimToNewest(
            id,
            this.config.SLUICE_PROGRESS_RETENTION,
            ROWS_PER_QUERY,
          );
        } catch (e) {
          failed++;
          this.logger.warn(
            `progress retention: trimming query ${id} failed (next round retries): ${(e as Error).message}`,
          );
        }
      }
    } catch (e) {
      this.logger.warn(
        `progress retention: listing queries failed (next pass retries): ${(e as Error).message}`,
      );
    } finally {
      this.running = false;
    }
    if (deleted > 0)
      this.logger.log(`progress retention: deleted ${deleted} events of ${ids.length} queries`);
    return { queries: ids.length, deleted, failed };
  }
}
