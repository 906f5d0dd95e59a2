// The Prisma client, connected through the pg driver adapter (Prisma 7 runs no query engine binary),
// and `sql` (statements through `pg` directly, sql-pool.ts) on a pool of its own.
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Pool } from 'pg';
import { newPool, SqlPool } from './sql-pool';

@Injectable()
export class PrismaRepository extends PrismaClient implements OnModuleDestroy {
  /**
   * Statements without Prisma's client runtime (sql-pool.ts says why): the alert evaluator's, the
   * notification router's and the delivery worker's, i.e. the leader's background work. They run on
   * a pool of their own (a bulkhead): on the shared pool a pass's statements, its history save and
   * eight deliveries at once took the connections API requests were waiting for (bench:alerts,
   * `poolWaitMs` of the slowest probes, BENCHMARKS.md).
   */
  readonly sql: SqlPool;
  private readonly pool: Pool;
  private readonly sqlPool: Pool;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const pool = newPool(config.DATABASE_URL);
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
    this.sqlPool = newPool(config.DATABASE_URL);
    this.sql = new SqlPool(this.sqlPool);
  }

  /** Prisma leaves a pool it was given open: both pools are ended here, once. */
  override async $disconnect(): Promise<void> {
    await super.$disconnect();
    for (const p of [this.pool, this.sqlPool]) if (!p.ended) await p.end();
  }

  async ping(): Promise<void> {
    await this.$queryRawUnsafe('SELECT 1');
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
