// Progress retention on the real database: a pass keeps each of the cluster's queries' newest
// SLUICE_PROGRESS_RETENTION events and deletes the older ones, at most ROWS_PER_QUERY per query and
// pass (the next pass deletes the rest); another cluster's query is left alone; the leader runs it
// on its interval.
import { randomUUID } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAppConfig } from '../src/config/app-config';
import { ProgressRetention, ROWS_PER_QUERY } from '../src/progress/progress-retention.service';
import { PrismaRepository } from '../src/repositories/prisma.repository';
import { ProgressRepository } from '../src/repositories/progress.repository';
import { QueryRepository } from '../src/repositories/query.repository';
import { eventually } from './support/test-app';

const url = process.env.DATABASE_URL ?? 'postgresql://sluice@127.0.0.1:55432/sluice';
const suffix = randomUUID().slice(0, 8);
const cluster = `retention-it-${suffix}`;
const KEEP = 100;
let db: Client;
let prisma: PrismaRepository;
const ids: string[] = [];

async function query(owner: string): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO "Query" (id, name, cluster, "desiredState", "desiredVersion", "desiredInstances", "updatedAt")
     VALUES ($1, $2, $3, 'STOPPED', 1, 1, now())`,
    [id, `retention-it-${id.slice(0, 8)}`, owner],
  );
  ids.push(id);
  return id;
}

/** `n` events of batch ids 1..n, one second apart (event time grows with the batch id). */
async function events(queryId: string, n: number): Promise<void> {
  await db.query(
    `INSERT INTO "ProgressEvent" ("queryId", "runId", "batchId", instance, "timestamp", "numInputRows", payload)
     SELECT $1, 'run-1', b, 'i-0', timestamp '2026-01-01' + b * interval '1 second', 1, '{}'::json
     FROM generate_series(1, $2::int) AS b`,
    [queryId, n],
  );
}

/** How many events the query has, and its oldest and newest batch ids. */
async function kept(queryId: string): Promise<{ n: number; min: number; max: number }> {
  const { rows } = await db.query<{ n: string; min: string; max: string }>(
    `SELECT count(*) AS n, min("batchId") AS min, max("batchId") AS max FROM "ProgressEvent" WHERE "queryId" = $1`,
    [queryId],
  );
  return { n: Number(rows[0]!.n), min: Number(rows[0]!.min), max: Number(rows[0]!.max) };
}

function retention(intervalMs = 60_000): ProgressRetention {
  const config = loadAppConfig({
    ...process.env,
    DATABASE_URL: url,
    SLUICE_CLUSTER_NAME: cluster,
    SLUICE_PROGRESS_RETENTION: String(KEEP),
    SLUICE_PROGRESS_TRIM_INTERVAL_MS: String(intervalMs),
  });
  prisma ??= new PrismaRepository(config);
  return new ProgressRetention(
    new ProgressRepository(prisma),
    new QueryRepository(prisma),
    config,
    { isLeader: true },
    new SchedulerRegistry(),
  );
}

beforeAll(async () => {
  db = new Client({ connectionString: url });
  await db.connect();
});

afterAll(async () => {
  // Progress rows go with their query (ON DELETE CASCADE).
  if (ids.length > 0) await db.query('DELETE FROM "Query" WHERE id = ANY($1::uuid[])', [ids]);
  await db.end();
  await prisma?.$disconnect();
});

describe('progress retention', () => {
  it("keeps each of the cluster's queries' newest events, bounded per pass, and leaves other clusters' alone", async () => {
    const big = await query(cluster);
    const small = await query(cluster);
    const foreign = await query(`other-${suffix}`);
    await events(big, ROWS_PER_QUERY + KEEP + 200);
    await events(small, KEEP - 10);
    await events(foreign, KEEP + 50);
    const r = retention();

    // First pass: at most ROWS_PER_QUERY rows of the big query go.
    const first = await r.pass();
    expect(first).toMatchObject({ queries: 2, deleted: ROWS_PER_QUERY, failed: 0 });
    expect((await kept(big)).n).toBe(KEEP + 200);
    // Second pass: the rest, and the newest KEEP stay.
    expect(await r.pass()).toMatchObject({ deleted: 200, failed: 0 });
    expect(await kept(big)).toEqual({ n: KEEP, min: ROWS_PER_QUERY + 201, max: ROWS_PER_QUERY + KEEP + 200 });
    // Under the retention: untouched; another cluster's query: untouched (its leader trims it).
    expect(await kept(small)).toEqual({ n: KEEP - 10, min: 1, max: KEEP - 10 });
    expect(await kept(foreign)).toEqual({ n: KEEP + 50, min: 1, max: KEEP + 50 });
    // Nothing left to do: a pass deletes nothing.
    expect(await r.pass()).toMatchObject({ deleted: 0 });
  }, 120_000);

  it('the leader trims on its interval', async () => {
    const q = await query(cluster);
    await events(q, KEEP + 30);
    const r = retention(1000);
    r.onApplicationBootstrap();
    try {
      await eventually(
        () => kept(q),
        (k) => k.n === KEEP,
        30_000,
        'trimmed by the scheduled pass',
      );
      expect(await kept(q)).toEqual({ n: KEEP, min: 31, max: KEEP + 30 });
    } finally {
      await r.onModuleDestroy();
    }
  }, 60_000);
});
