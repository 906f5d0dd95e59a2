// ProgressWriter on the real database: payloads are stored byte for byte as received, rows of
// unknown or concurrently deleted queries are skipped, poison rows are refused alone, a chunk
// aborted by a deadlock is retried, lastProgressAt only moves forward.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressWriter, type IngestableProgress, type InsertResult } from '../src/progress/progress-writer';

const url = process.env.DATABASE_URL ?? 'postgresql://sluice@127.0.0.1:55432/sluice';
let db: Client;
let writer: ProgressWriter;
const queryId = randomUUID();

function event(
  batchId: number,
  timestamp: string,
  payloadJson: string,
  id: string = queryId,
): IngestableProgress {
  return {
    queryId: id,
    runId: 'run-1',
    batchId,
    instance: 'i-0',
    timestamp: new Date(timestamp),
    numInputRows: 10,
    inputRowsPerSecond: 2.5,
    processedRowsPerSecond: null,
    batchDurationMs: 12.4,
    payloadJson,
  };
}

/** Runs `fn` in a transaction on a second session, to hold locks against the writer. */
async function inOtherSession<T>(fn: (other: Client) => Promise<T>): Promise<T> {
  const other = new Client({ connectionString: url });
  await other.connect();
  try {
    await other.query('BEGIN');
    const value = await fn(other);
    await other.query('COMMIT');
    return value;
  } finally {
    await other.end();
  }
}

/** Starts an insert and gives it 200 ms to block on the other session's locks. */
async function blockedInsert(events: IngestableProgress[]): Promise<{ result: Promise<InsertResult> }> {
  const result = writer.insert(events);
  result.catch(() => undefined); // awaited by the test once the other session has committed
  await new Promise((r) => setTimeout(r, 200));
  return { result };
}

beforeAll(async () => {
  db = new Client({ connectionString: url });
  await db.connect();
  await db.query(
    `INSERT INTO "Query" (id, name, "desiredState", "desiredVersion", "desiredInstances", "updatedAt") VALUES ($1, $2, 'STOPPED', 1, 1, now())`,
    [queryId, `writer-it-${queryId.slice(0, 8)}`],
  );
  // The query row has no cluster (as a row from before ownership): any cluster's writer stores it.
  writer = new ProgressWriter(url, 1, 'progress-writer-it');
});

afterAll(async () => {
  await writer.close();
  await db.query('DELETE FROM "Query" WHERE id = $1', [queryId]);
  await db.end();
});

describe('ProgressWriter', () => {
  it('stores the received text verbatim and counts stored rows per query', async () => {
    // Spacing (tabs and newlines too: COPY's own separators), key order, escapes and unicode
    // survive exactly (json, not jsonb); a \u0000 escape is valid JSON and is kept as written.
    const text = '{ "id": "x",\r\n\t"b": 1, "a": "é \\u00e9 \\"q\\" \\\\ \\u0000", "n": 1.50 }';
    const { stored, rejected } = await writer.insert([
      event(1, '2026-01-01T00:00:01.000Z', text),
      { ...event(2, '2026-01-01T00:00:02.000Z', '{"second": true}'), runId: 'run\t\\N\n2', instance: null },
      event(3, '2026-01-01T00:00:03.000Z', '{}', randomUUID()), // a query that does not exist
      event(4, '2026-01-01T00:00:04.000Z', '{}', 'not-a-uuid'),
    ]);
    expect([...stored]).toEqual([[queryId, 2]]);
    expect(rejected).toEqual([]);
    const rows = await db.query<{
      batchId: string;
      runId: string;
      instance: string | null;
      payload: string;
      batchDurationMs: number;
    }>(
      `SELECT "batchId", "runId", instance, payload::text AS payload, "batchDurationMs" FROM "ProgressEvent" WHERE "queryId" = $1 ORDER BY "batchId"`,
      [queryId],
    );
    expect(rows.rows).toEqual([
      { batchId: '1', runId: 'run-1', instance: 'i-0', payload: text, batchDurationMs: 12 },
      {
        batchId: '2',
        runId: 'run\t\\N\n2',
        instance: null,
        payload: '{"second": true}',
        batchDurationMs: 12,
      },
    ]);
  });

  it('refuses only the poison events of a chunk PostgreSQL cannot store, and stores the rest', async () => {
    const { stored, rejected } = await writer.insert([
      event(10, '2026-01-01T00:00:10.000Z', '{"ok": 1}'),
      { ...event(11, '2026-01-01T00:00:11.000Z', '{}'), runId: 'a\u0000b' }, // PostgreSQL text cannot hold NUL
      { ...event(12, '2026-01-01T00:00:12.000Z', '{"big": 1}'), batchDurationMs: 1e12 }, // beyond integer
      event(13, '2026-01-01T00:00:13.000Z', '{"ok": 2}'),
    ]);
    expect([...stored]).toEqual([[queryId, 2]]);
    expect(rejected.map((r) => [r.event.batchId, r.reason])).toEqual([
      [11, expect.stringMatching(/0x00/)],
      [12, expect.stringMatching(/out of range/i)],
    ]);
    const rows = await db.query<{ batchId: string }>(
      `SELECT "batchId" FROM "ProgressEvent" WHERE "queryId" = $1 AND "batchId" >= 10 ORDER BY "batchId"`,
      [queryId],
    );
    expect(rows.rows.map((r) => r.batchId)).toEqual(['10', '13']);
  });

  it('skips the events of a query deleted while they are being stored', async () => {
    const doomed = randomUUID();
    await db.query(
      `INSERT INTO "Query" (id, name, "desiredState", "desiredVersion", "desiredInstances", "updatedAt") VALUES ($1, $2, 'STOPPED', 1, 1, now())`,
      [doomed, `writer-it-${doomed.slice(0, 8)}`],
    );
    const insert = await inOtherSession(async (deleter) => {
      await deleter.query('DELETE FROM "Query" WHERE id = $1', [doomed]);
      // The writer now waits for the deleting transaction; once it commits, the query is gone and
      // its rows must be dropped, not fail the chunk on the foreign key.
      return blockedInsert([
        event(20, '2026-01-01T00:00:20.000Z', '{}'),
        event(1, '2026-01-01T00:00:20.000Z', '{}', doomed),
      ]);
    });
    const { stored, rejected } = await insert.result;
    expect([...stored]).toEqual([[queryId, 1]]);
    expect(rejected).toEqual([]);
    const orphans = await db.query('SELECT 1 FROM "ProgressEvent" WHERE "queryId" = $1', [doomed]);
    expect(orphans.rowCount).toBe(0);
  });

  it('retries a chunk PostgreSQL aborted to break a deadlock, storing it once', async () => {
    const insert = await inOtherSession(async (other) => {
      // A cycle on purpose: `other` blocks the COPY (table lock) after the writer has locked the
      // query's key, then wants that key itself. The writer waited first, so its deadlock check
      // fires first and PostgreSQL aborts the writer's transaction.
      await other.query('LOCK TABLE "ProgressEvent" IN SHARE MODE');
      const blocked = await blockedInsert([event(30, '2026-01-01T00:00:30.000Z', '{"deadlock": true}')]);
      await other.query('SELECT id FROM "Query" WHERE id = $1 FOR UPDATE', [queryId]); // returns once the writer is aborted
      return blocked;
    });
    const { stored, rejected } = await insert.result;
    expect([...stored]).toEqual([[queryId, 1]]);
    expect(rejected).toEqual([]);
    const rows = await db.query('SELECT 1 FROM "ProgressEvent" WHERE "queryId" = $1 AND "batchId" = 30', [
      queryId,
    ]);
    expect(rows.rowCount).toBe(1);
  });

  it('moves lastProgressAt forward only', async () => {
    const last = async () =>
      (
        await db.query<{ at: Date }>('SELECT "lastProgressAt" AS at FROM "Query" WHERE id = $1', [queryId])
      ).rows[0]!.at.getTime();
    const before = await last();
    await writer.insert([event(5, '2025-06-01T00:00:00.000Z', '{}')]); // an older, late event
    expect(await last()).toBe(before);
    await writer.insert([event(6, '2026-02-01T00:00:00.000Z', '{}')]);
    expect(await last()).toBeGreaterThan(before);
  });
});
