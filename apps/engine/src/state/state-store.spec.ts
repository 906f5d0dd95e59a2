import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import { InMemoryStateStore, obsoleteFiles, restorePlan, type StateStore } from './state-store';

let dir: string;
let checkpoint: CheckpointStore;
const stateDir = () => path.join(dir, 'tasks/shuffle-0/state/agg');

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-state-'));
  checkpoint = new CheckpointStore(new FileBlobStore(dir), dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (version: number, snapshotEvery = 10, retainVersions = 100) =>
  InMemoryStateStore.load(checkpoint, 'shuffle-0', 'agg', version, { snapshotEvery, retainVersions });

function contents(store: StateStore): Record<string, unknown> {
  return Object.fromEntries([...store.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

describe('StateStore', () => {
  it('restores a version from its deltas and ignores newer, uncommitted versions', async () => {
    const store = await load(-1);
    store.put('a', { count: 1 });
    store.put('b', { count: 1 });
    await store.commit(0);
    store.put('a', { count: 2 });
    store.remove('b');
    await store.commit(3); // versions follow batch ids, which may skip
    store.put('c', { count: 9 });
    await store.commit(4);

    expect(contents(await load(0))).toEqual({ a: { count: 1 }, b: { count: 1 } });
    expect(contents(await load(3))).toEqual({ a: { count: 2 } });
    expect(contents(await load(4))).toEqual({ a: { count: 2 }, c: { count: 9 } });
  });

  it('reports per-batch row metrics and a memory estimate that follows the data', async () => {
    const store = await load(-1);
    for (let i = 0; i < 100; i++) store.put(`key-${i}`, { count: i, sum: i * 10 });
    const m1 = await store.commit(0);
    expect(m1).toMatchObject({ numRowsTotal: 100, numRowsUpdated: 100, numRowsRemoved: 0 });
    store.remove('key-1');
    store.remove('key-2');
    store.put('key-3', { count: 0, sum: 0 });
    const m2 = await store.commit(1);
    expect(m2).toMatchObject({ numRowsTotal: 98, numRowsUpdated: 1, numRowsRemoved: 2 });
    expect(m2.memoryUsedBytes).toBeLessThan(m1.memoryUsedBytes);
    expect(m1.memoryUsedBytes).toBeGreaterThan(100 * 20);
    expect((await load(1)).metrics().memoryUsedBytes).toBe(m2.memoryUsedBytes);
  });

  it('abort drops the open batch and keeps the committed state', async () => {
    const store = await load(-1);
    store.put('a', 1);
    await store.commit(0);
    store.put('a', 2);
    store.put('b', 3);
    store.remove('a');
    store.abort();
    expect(contents(store)).toEqual({ a: 1 });
    await store.commit(1);
    expect(readdirSync(stateDir())).toEqual(['0.delta']);
  });

  it('evicts entries by predicate (watermark) and persists the removals', async () => {
    const store = await load(-1);
    store.put('w1', { end: 100 });
    store.put('w2', { end: 200 });
    await store.commit(0);
    const evicted = store.removeWhere((_k, v) => (v as { end: number }).end <= 150);
    expect(evicted).toEqual([['w1', { end: 100 }]]);
    await store.commit(1);
    expect(contents(await load(1))).toEqual({ w2: { end: 200 } });
  });

  it('snapshots every N deltas off the hot path, restores from snapshot + later deltas and cleans up', async () => {
    const store = await load(-1, 3, 2);
    for (let v = 0; v < 11; v++) {
      store.put(`k${v}`, v);
      if (v > 0) store.remove(`k${v - 1}`);
      await store.commit(v);
      await store.flushMaintenance();
    }
    // Snapshots at 2, 5 and 8. The cleanup at 8 keeps versions ≥ 7 restorable, whose base is
    // snapshot 5: everything older goes.
    expect(readdirSync(stateDir()).sort()).toEqual([
      '10.delta',
      '5.snapshot',
      '6.delta',
      '7.delta',
      '8.delta',
      '8.snapshot',
      '9.delta',
    ]);
    expect(contents(await load(10))).toEqual({ k10: 10 });
    expect(contents(await load(7))).toEqual({ k7: 7 });
  });

  it('fails naming the file when a delta is corrupt, rather than restoring partial state', async () => {
    const store = await load(-1);
    store.put('a', 1);
    await store.commit(0);
    store.put('b', 2);
    await store.commit(1);
    const file = path.join(stateDir(), '1.delta');
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    await expect(load(1)).rejects.toThrow(`corrupt checkpoint file ${file}`);
  });

  it('refuses to commit a version that does not advance', async () => {
    const store = await load(4);
    await expect(store.commit(4)).rejects.toThrow('commit of version 4 after 4');
  });
});

describe('restore and cleanup planning', () => {
  const d = (version: number) => ({ version, kind: 'delta' as const });
  const s = (version: number) => ({ version, kind: 'snapshot' as const });

  it('uses the newest snapshot at or below the version', () => {
    const files = [d(1), d(2), s(2), d(3), d(4), s(4), d(5)];
    expect(restorePlan(files, 3)).toEqual([s(2), d(3)]);
    expect(restorePlan(files, 5)).toEqual([s(4), d(5)]);
    expect(restorePlan(files, 1)).toEqual([d(1)]);
  });

  it('keeps everything any retained version needs', () => {
    const files = [d(1), d(2), s(2), d(3), d(4), s(4), d(5)];
    expect(obsoleteFiles(files, 3)).toEqual([d(1), d(2)]);
    expect(obsoleteFiles(files, 1)).toEqual([]);
    expect(obsoleteFiles(files, 5)).toEqual([d(1), d(2), s(2), d(3), d(4)]);
  });
});
