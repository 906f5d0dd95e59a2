// The PostgreSQL checkpoint backend against the real database: same layout semantics as the local
// directory, create-exclusive write-ahead entries under concurrency, and corruption detection.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointStore, OffsetLogEntry } from '../src/checkpoint/checkpoint-store';
import { openCheckpointStore } from '../src/checkpoint/open-checkpoint-store';
import { openStateStoreProvider } from '../src/state/state-store-provider';

const databaseUrl = process.env.DATABASE_URL ?? '';
let pool: Pool;
const opened: CheckpointStore[] = [];

async function open(queryId: string): Promise<CheckpointStore> {
  const store = await openCheckpointStore(databaseUrl, queryId);
  opened.push(store);
  return store;
}

const entry = (batchId: number, end: number): OffsetLogEntry => ({
  batchId,
  range: { topic: 'orders', partition: 2, start: 0, end },
  watermarkMs: 0,
  batchTimestampMs: 1,
  planVersion: 1,
});

beforeAll(() => {
  pool = new Pool({ connectionString: databaseUrl });
});
afterAll(async () => {
  for (const s of opened) await s.close();
  await pool.end();
});

describe('PostgreSQL checkpoint store', () => {
  it('creates its schema idempotently when several engines open it at once', async () => {
    const queryId = `q-${randomUUID()}`;
    const stores = await Promise.all([open(queryId), open(queryId), open(queryId)]);
    expect(stores).toHaveLength(3);
    const res = await pool.query("SELECT to_regclass('sluice_engine.checkpoint_files') AS t");
    expect(res.rows[0].t).toBe('sluice_engine.checkpoint_files');
  });

  it('round-trips metadata, plans, offsets, commits and state files', async () => {
    const store = await open(`q-${randomUUID()}`);
    const meta = { queryId: 'q', created: 'c', planHash: 'h', numShufflePartitions: 8 };
    expect(await store.initMetadata(meta)).toEqual(meta);
    expect(await store.initMetadata({ ...meta, planHash: 'x' })).toEqual(meta);
    await store.writePlan(1, { plan: true });
    expect(await store.planVersions()).toEqual([1]);
    await store.writeOffsets('source-orders-2', entry(0, 10));
    await store.writeCommit('source-orders-2', { batchId: 0, maxEventTimeMs: 42, committedAt: 'now' });
    await store.writeOffsets('source-orders-2', entry(1, 20));
    const latest = await store.latest('source-orders-2');
    expect(latest.offsets).toEqual(entry(1, 20));
    expect(latest.commit?.maxEventTimeMs).toBe(42);
    await store.writeState('shuffle-3', 'agg', { version: 1, kind: 'delta' }, [['p', 'k', 1]]);
    await store.writeState('shuffle-3', 'agg', { version: 10, kind: 'snapshot' }, [['k', 1]]);
    expect(await store.listState('shuffle-3', 'agg')).toEqual([
      { version: 1, kind: 'delta' },
      { version: 10, kind: 'snapshot' },
    ]);
    expect(await store.readState('shuffle-3', 'agg', { version: 10, kind: 'snapshot' })).toEqual([['k', 1]]);
    expect(await store.tasks()).toEqual(['shuffle-3', 'source-orders-2']);
    expect(await store.purgeBatches('source-orders-2', 1)).toBe(2);
    expect((await store.latest('source-orders-2')).commit).toBeUndefined();
  });

  it('holds the state of both state store providers (snapshot without streaming: joined, same format)', async () => {
    const checkpoint = await open(`q-${randomUUID()}`);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pg-lmdb-'));
    try {
      const opts = { snapshotEvery: 2, retainVersions: 10 };
      const lmdb = await openStateStoreProvider('lmdb', checkpoint, work, opts);
      const store = await lmdb.getStore('shuffle.1', 'agg', -1);
      for (let v = 0; v < 4; v++) {
        for (let i = 0; i < 50; i++) store.put(`k${(v * 31 + i) % 120}`, { v, i });
        store.remove(`k${v}`);
        await store.commit(v);
      }
      await store.flushMaintenance();
      const want = Object.fromEntries([...store.entries()].sort());
      await lmdb.close();
      expect((await checkpoint.listState('shuffle.1', 'agg')).filter((f) => f.kind === 'snapshot')).toEqual([
        { version: 1, kind: 'snapshot' },
        { version: 3, kind: 'snapshot' },
      ]);
      const memory = await openStateStoreProvider('memory', checkpoint, work, opts);
      const restored = await memory.getStore('shuffle.1', 'agg', 3);
      expect(Object.fromEntries([...restored.entries()].sort())).toEqual(want);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('lets exactly one of several concurrent planners write a batch; all see the same range', async () => {
    const queryId = `q-${randomUUID()}`;
    const stores = await Promise.all([open(queryId), open(queryId), open(queryId)]);
    const results = await Promise.all(stores.map((s, i) => s.writeOffsets('t', entry(5, 100 + i))));
    expect(new Set(results.map((r) => r.range.end)).size).toBe(1);
  });

  it('keeps queries apart by namespace', async () => {
    const a = await open(`q-${randomUUID()}`);
    const b = await open(`q-${randomUUID()}`);
    await a.writeOffsets('t', entry(0, 1));
    expect(await b.latest('t')).toEqual({});
  });

  it('reports a damaged row by table and key', async () => {
    const queryId = `q-${randomUUID()}`;
    const store = await open(queryId);
    await store.writeCommit('t', { batchId: 7, maxEventTimeMs: null, committedAt: 'now' });
    await pool.query(
      `UPDATE sluice_engine.checkpoint_files SET data = substring(data from 1 for length(data) - 2)
       WHERE namespace = $1 AND path = 'tasks/t/commits/7'`,
      [queryId],
    );
    await expect(store.readCommit('t', 7)).rejects.toThrow(
      `sluice_engine.checkpoint_files[${queryId}:tasks/t/commits/7]: expected`,
    );
  });
});
