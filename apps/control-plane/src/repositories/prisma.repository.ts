// The Prisma client, connected through the pg driver adapter (Prisma 7 runs no query engine binary),
// on a pool it shares with `sql` (statements through `pg` directly, sql-pool.ts).
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Pool } from 'pg';
import { newPool, SqlPool } from './sql-pool';

@Injectable()
export class PrismaRepository extends PrismaClient implements OnModuleDestroy {
  /** The same pool without Prisma's client runtime, for the hot statements (sql-pool.ts says why). */
  readonly sql: SqlPool;
  private readonly pool: Pool;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const pool = newPool(config.DATABASE_URL);
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
    this.sql = new SqlPool(pool);
  }

  /**
   * Prisma leaves a pool it was given open, and `sql` may have used it while Prisma never
   * connected: the pool is ended here, once.
   */
  override async $disconnect(): Promise<void> {
    await super.$disconnect();
    if (!this.pool.ended) await this.pool.end();
  }

  async ping(): Promise<void> {
    await this.$queryRawUnsafe('SELECT 1');
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
