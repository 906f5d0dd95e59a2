// PrismaRepository.sql (repositories/sql-pool.ts) on the real database: a row read through `pg`
// directly is the object Prisma's typed read returns (timestamps as the same UTC instants even when
// the process's time zone is not UTC), and a transaction is all of its statements or none.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAppConfig } from '../src/config/app-config';
import { PrismaRepository } from '../src/repositories/prisma.repository';

const url = process.env.DATABASE_URL ?? 'postgresql://sluice@127.0.0.1:55432/sluice';
const run = randomUUID().slice(0, 8);
const silenceIds = [randomUUID(), randomUUID(), randomUUID()];
let prisma: PrismaRepository;
let tz: string | undefined;

beforeAll(() => {
  // `pg` alone would read a `timestamp` column in local time: a zone far from UTC shows it.
  tz = process.env.TZ;
  process.env.TZ = 'America/New_York';
  prisma = new PrismaRepository(loadAppConfig({ ...process.env, DATABASE_URL: url }));
});

afterAll(async () => {
  await prisma.silence.deleteMany({ where: { id: { in: silenceIds } } });
  await prisma.$disconnect();
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe('PrismaRepository.sql', () => {
  it("reads a row as Prisma's typed read does: same fields, same Dates, JSON parsed", async () => {
    await prisma.silence.create({
      data: {
        id: silenceIds[0]!,
        matchers: [{ name: 'query', value: `sql-pool-${run}`, isRegex: false, isEqual: true }],
        startsAt: new Date('2026-01-02T03:04:05.678Z'),
        endsAt: new Date('2026-07-08T09:10:11.120Z'),
        createdBy: 'test',
        comment: `sql-pool ${run}`,
      },
    });
    const typed = await prisma.silence.findUniqueOrThrow({ where: { id: silenceIds[0]! } });
    const [direct] = await prisma.sql.rows(`SELECT s.* FROM "Silence" s WHERE s.id = $1::uuid`, [
      silenceIds[0],
    ]);
    expect(direct).toEqual(typed);
    expect((direct as { startsAt: Date }).startsAt.toISOString()).toBe('2026-01-02T03:04:05.678Z');
  });

  it('a transaction whose second statement fails leaves nothing of the first', async () => {
    const insert = (id: string) => ({
      text: `INSERT INTO "Silence" (id, matchers, "startsAt", "endsAt", "createdBy", comment)
             VALUES ($1::uuid, '[]', now(), now(), 'test', $2)`,
      values: [id, `sql-pool ${run}`],
    });
    await expect(
      prisma.sql.transaction([insert(silenceIds[1]!), { text: 'SELECT 1/0', values: [] }]),
    ).rejects.toThrow(/division by zero/);
    expect(await prisma.silence.findUnique({ where: { id: silenceIds[1]! } })).toBeNull();
    await prisma.sql.transaction([insert(silenceIds[1]!), insert(silenceIds[2]!)]);
    expect(await prisma.silence.count({ where: { id: { in: silenceIds.slice(1) } } })).toBe(2);
  });

  it('an idle connection killed by the server is dropped, not an uncaught error; the next statement reconnects', async () => {
    // `sql`'s pool: Prisma's driver adapter never listens on it, so the pool's own listener is all
    // there is (sql-pool.ts).
    const fresh = new PrismaRepository(loadAppConfig({ ...process.env, DATABASE_URL: url }));
    try {
      const pid = (await fresh.sql.rows<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
      const uncaught: Error[] = [];
      const onUncaught = (e: Error) => uncaught.push(e);
      process.on('uncaughtException', onUncaught);
      try {
        // The connection is idle in the pool now; the server ends it.
        await prisma.sql.rows('SELECT pg_terminate_backend($1::int)', [pid]);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        process.off('uncaughtException', onUncaught);
      }
      expect(uncaught).toEqual([]);
      const [again] = await fresh.sql.rows<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(again!.pid).not.toBe(pid);
    } finally {
      await fresh.$disconnect();
    }
  });

  it("a Prisma read is answered while every one of `sql`'s connections is busy (a pool of its own)", async () => {
    const fresh = new PrismaRepository(loadAppConfig({ ...process.env, DATABASE_URL: url }));
    try {
      const order: string[] = [];
      // More statements than `sql`'s pool has connections (pg's default, 10), each holding one.
      const busy = Array.from({ length: 12 }, () =>
        fresh.sql.rows('SELECT pg_sleep(1.5)').then(() => order.push('sql')),
      );
      await new Promise((r) => setTimeout(r, 200));
      await fresh.silence.count().then(() => order.push('prisma'));
      await Promise.all(busy);
      // On one shared pool the read would have queued behind the sleeping statements.
      expect(order[0]).toBe('prisma');
      expect(order.filter((o) => o === 'sql')).toHaveLength(12);
    } finally {
      await fresh.$disconnect();
    }
  });
});
