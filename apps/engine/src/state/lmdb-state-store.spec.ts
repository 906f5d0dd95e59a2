// The LMDB provider against the in-memory one on real files: the same behaviour through the
// StateStore API, the same checkpoint files (a query switches provider memory → lmdb → memory
// on one checkpoint), and the LMDB copy treated as a cache of the checkpoint in every state a
// crash can leave behind.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import { LmdbStateStoreProvider, type LmdbStateStore } from './lmdb-state-store';
import type { JsonValue, StateStore, StateStoreOptions } from './state-store';
import {
  InMemoryStateStoreProvider,
  openStateStoreProvider,
  type StateStoreProvider,
} from './state-store-provider';

let dir: string;
let checkpoint: CheckpointStore;
const providers: StateStoreProvider[] = [];
const stateDir = () => path.join(dir, 'checkpoint/tasks/shuffle.0/state/agg');
const workDir = () => path.join(dir, 'work');

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-lmdb-state-'));
  checkpoint = new CheckpointStore(
    new FileBlobStore(path.join(dir, 'checkpoint')),
    path.join(dir, 'checkpoint'),
  );
});
afterEach(async () => {
  for (const p of providers.splice(0)) await p.close();
  rmSync(dir, { recursive: true, force: true });
});

function provider(
  kind: 'memory' | 'lmdb',
  opts: StateStoreOptions = { snapshotEvery: 3, retainVersions: 100 },
  /** Another instance's working folder (an empty cache). */
  work = workDir(),
) {
  const p =
    kind === 'memory'
      ? new InMemoryStateStoreProvider(checkpoint, opts)
      : new LmdbStateStoreProvider(checkpoint, path.join(work, 'state'), opts);
  providers.push(p);
  return p;
}

const open = (p: StateStoreProvider, version: number) => p.getStore('shuffle.0', 'agg', version);

function contents(store: StateStore): Record<string, unknown> {
  return Object.fromEntries([...store.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Batch v of a deterministic workload: keys come, change and go, some long, some odd. */
function applyBatch(store: StateStore, v: number): void {
  for (let i = 0; i < 20; i++) {
    const k = `w${(v * 7 + i) % 50}`;
    const before = store.get(k) as { n: number } | undefined;
    store.put(k, { n: (before?.n ?? 0) + 1, v, tags: ['a', v % 2 === 0], nested: { x: null, y: 1.5 } });
  }
  store.put(`${'long-'.repeat(400)}${v % 3}`, v);
  store.put(`\u0001odd${v % 2}`, `odd ${v}`);
  if (v % 4 === 3) store.remove(`w${v % 50}`);
  store.removeWhere((k, val) => k.startsWith('w') && (val as { n: number }).n > 3);
}

/** The state after batches 0..version, computed with a plain Map through the same API. */
async function expected(version: number): Promise<Record<string, unknown>> {
  const scratch = new CheckpointStore(new FileBlobStore(path.join(dir, `expected-${version}`)), 'x');
  const store = await new InMemoryStateStoreProvider(scratch, {
    snapshotEvery: 1000,
    retainVersions: 1000,
  }).getStore('shuffle.0', 'agg', -1);
  for (let v = 0; v <= version; v++) applyBatch(store, v);
  return contents(store);
}

describe.each(['memory', 'lmdb'] as const)('the %s provider', (kind) => {
  it('serves get/has/size/entries with the open batch, commits, aborts and evicts', async () => {
    const store = await open(provider(kind), -1);
    store.put('a', { count: 1 });
    store.put('b', [1, 'two', null]);
    expect(store.get('a')).toEqual({ count: 1 });
    expect(store.has('b')).toBe(true);
    expect(store.size).toBe(2);
    const m0 = await store.commit(0);
    expect(m0).toMatchObject({ numRowsTotal: 2, numRowsUpdated: 2, numRowsRemoved: 0 });
    store.put('c', 3);
    store.remove('a');
    expect(store.remove('nope')).toBe(false);
    expect(store.size).toBe(2);
    expect(contents(store)).toEqual({ b: [1, 'two', null], c: 3 });
    store.abort();
    expect(store.size).toBe(2);
    expect(contents(store)).toEqual({ a: { count: 1 }, b: [1, 'two', null] });
    expect(store.removeWhere((k) => k === 'a')).toEqual([['a', { count: 1 }]]);
    const m1 = await store.commit(1);
    expect(m1).toMatchObject({ numRowsTotal: 1, numRowsUpdated: 0, numRowsRemoved: 1 });
    expect(store.has('a')).toBe(false);
    await expect(store.commit(1)).rejects.toThrow('commit of version 1 after 1');
  });

  it('writes the same checkpoint files and restores every version, snapshots included', async () => {
    const p = provider(kind);
    const store = await open(p, -1);
    for (let v = 0; v < 8; v++) {
      applyBatch(store, v);
      await store.commit(v);
      await store.flushMaintenance();
    }
    await store.close();
    // Snapshots every 3 deltas: at 2 and 5.
    expect(
      readdirSync(stateDir())
        .filter((f) => f.endsWith('.snapshot'))
        .sort(),
    ).toEqual(['2.snapshot', '5.snapshot']);
    for (const v of [1, 2, 4, 7]) {
      const fresh = await open(provider(kind), v);
      expect(contents(fresh)).toEqual(await expected(v));
      await fresh.close();
    }
  });
});

describe('switching provider on one checkpoint', () => {
  it('memory → lmdb → memory: each start restores the other provider’s files exactly', async () => {
    let store = await open(provider('memory'), -1);
    for (let v = 0; v < 5; v++) {
      applyBatch(store, v);
      await store.commit(v);
    }
    await store.flushMaintenance();
    await store.close();
    store = await open(provider('lmdb'), 4);
    expect((store as LmdbStateStore).opened).toBe('restored');
    expect(contents(store)).toEqual(await expected(4));
    for (let v = 5; v < 10; v++) {
      applyBatch(store, v);
      await store.commit(v);
    }
    await store.flushMaintenance();
    await store.close();
    store = await open(provider('memory'), 9);
    expect(contents(store)).toEqual(await expected(9));
    applyBatch(store, 10);
    await store.commit(10);
    await store.flushMaintenance();
    // And back to lmdb: its cache (at 9) catches up with memory's delta 10.
    const again = await open(provider('lmdb'), 10);
    expect((again as LmdbStateStore).opened).toBe('caught-up');
    expect(contents(again)).toEqual(await expected(10));
  });

  it('openStateStoreProvider puts LMDB files under the work dir, never in the checkpoint', async () => {
    const p = await openStateStoreProvider('lmdb', checkpoint, workDir());
    providers.push(p);
    const store = await open(p, -1);
    store.put('k', 1);
    await store.commit(0);
    expect(readdirSync(path.join(workDir(), 'state/shuffle.0/agg')).sort()).toEqual(['data.mdb', 'lock.mdb']);
    expect(readdirSync(stateDir())).toEqual(['0.delta']);
  });
});

describe('the LMDB copy is a cache of the checkpoint', () => {
  async function lmdbAt(version: number) {
    const p = provider('lmdb');
    const store = (await open(p, version)) as LmdbStateStore;
    return { p, store };
  }

  async function commitUpTo(store: StateStore, from: number, to: number): Promise<void> {
    for (let v = from; v <= to; v++) {
      applyBatch(store, v);
      await store.commit(v);
    }
    await store.flushMaintenance();
  }

  it('reopens the same version from the cache without reading the state again', async () => {
    const { store } = await lmdbAt(-1);
    await commitUpTo(store, 0, 4);
    await store.close();
    const reopened = (await open(provider('lmdb'), 4)) as LmdbStateStore;
    expect(reopened.opened).toBe('cached');
    expect(contents(reopened)).toEqual(await expected(4));
  });

  it('drops its mapped pages (closes and reopens LMDB) over the RSS budget without losing anything', async () => {
    // A budget of 0: every commit, every chunk of a scan (entries, snapshots) and every few point
    // reads reopen the environment.
    const p = new LmdbStateStoreProvider(
      checkpoint,
      path.join(workDir(), 'state'),
      { snapshotEvery: 3, retainVersions: 100 },
      { mappedBudgetBytes: 0, scanChunkEntries: 5 },
    );
    providers.push(p);
    const store = (await open(p, -1)) as LmdbStateStore;
    await commitUpTo(store, 0, 7);
    expect(store.remaps).toBeGreaterThan(3);
    expect(contents(store)).toEqual(await expected(7));
    await store.close();
    const reopened = (await open(provider('lmdb'), 7)) as LmdbStateStore;
    expect(reopened.opened).toBe('cached');
    expect(contents(reopened)).toEqual(await expected(7));
  });

  it('crash after the delta, before the LMDB write: both readings of the commit log restore exactly', async () => {
    const { store } = await lmdbAt(-1);
    await commitUpTo(store, 0, 3);
    await store.close();
    // Step 1 of commit(4) done (the delta in the checkpoint), step 2 (LMDB) never ran: the delta
    // written by another store on the same files is exactly what step 1 writes.
    const other = await open(provider('memory'), 3);
    applyBatch(other, 4);
    await other.commit(4);
    // The commit log says 4 committed: catch up with the delta.
    const at4 = (await open(provider('lmdb'), 4)) as LmdbStateStore;
    expect(at4.opened).toBe('caught-up');
    expect(contents(at4)).toEqual(await expected(4));
    await at4.close();
  });

  it('crash after the delta, before the LMDB write, batch not committed: restores the version before', async () => {
    const { store } = await lmdbAt(-1);
    await commitUpTo(store, 0, 3);
    await store.close();
    const other = await open(provider('memory'), 3);
    applyBatch(other, 4);
    await other.commit(4);
    const at3 = (await open(provider('lmdb'), 3)) as LmdbStateStore;
    expect(at3.opened).toBe('cached');
    expect(contents(at3)).toEqual(await expected(3));
  });

  it('crash after the LMDB write, before the commit log: the cache is ahead and is rebuilt', async () => {
    const { store } = await lmdbAt(-1);
    await commitUpTo(store, 0, 5);
    await store.close();
    const at4 = (await open(provider('lmdb'), 4)) as LmdbStateStore;
    expect(at4.opened).toBe('restored');
    expect(contents(at4)).toEqual(await expected(4));
  });

  it('rebuilds when another owner re-ran the cached batch differently', async () => {
    const { store } = await lmdbAt(-1);
    await commitUpTo(store, 0, 3);
    await store.close();
    // Another owner restored 2 and committed its own batch 3 over ours.
    const other = await open(provider('memory'), 2);
    other.put('theirs', true);
    await other.commit(3);
    const at3 = (await open(provider('lmdb'), 3)) as LmdbStateStore;
    expect(at3.opened).toBe('restored');
    expect(contents(at3)).toEqual({ ...(await expected(2)), theirs: true });
  });

  it('a restore that fails half-way leaves a cache that is never used', async () => {
    const { store } = await lmdbAt(-1);
    await commitUpTo(store, 0, 5);
    await store.close();
    // Damage snapshot 5's end: it streams its entries before the checksum can fail.
    const snapshot = path.join(stateDir(), '5.snapshot');
    const bytes = readFileSync(snapshot);
    writeFileSync(snapshot, Buffer.concat([bytes.subarray(0, bytes.length - 3), Buffer.from('}}]')]));
    // Version 4 from the cache is ahead → rebuild → reads snapshot 2 + deltas: fine.
    const ok = await open(provider('lmdb'), 4);
    expect(contents(ok)).toEqual(await expected(4));
    await ok.close();
    // Version 5 on another instance (no cache): the snapshot streams in, then fails its checksum.
    const other = path.join(dir, 'other-instance');
    await expect(open(provider('lmdb', undefined, other), 5)).rejects.toThrow(
      `corrupt checkpoint file ${snapshot}`,
    );
    // The half-filled cache is not taken for version 5 afterwards: it is rebuilt (and fails again).
    await expect(open(provider('lmdb', undefined, other), 5)).rejects.toThrow('checksum mismatch');
    // Once the damage is repaired (the snapshot rewritten whole), it restores.
    writeFileSync(snapshot, bytes);
    const repaired = await open(provider('lmdb', undefined, other), 5);
    expect((repaired as LmdbStateStore).opened).toBe('restored');
    expect(contents(repaired)).toEqual(await expected(5));
  });
});

describe('streamed snapshots', () => {
  it('a snapshot read in chunks while later commits land is the state at its version', async () => {
    // A budget of 0 (the environment reopened between chunks), and enough entries that the
    // snapshot is written in several pieces, so the commits that follow usually land mid-scan
    // (event-loop order decides; lmdb-version-scan.spec.ts interleaves deterministically).
    const p = new LmdbStateStoreProvider(
      checkpoint,
      path.join(workDir(), 'state'),
      { snapshotEvery: 2, retainVersions: 100 },
      { mappedBudgetBytes: 0, scanChunkEntries: 1000 },
    );
    providers.push(p);
    const store = (await open(p, -1)) as LmdbStateStore;
    const key = (i: number) => `k${String(i).padStart(5, '0')}`;
    for (let i = 0; i < 20000; i += 2) store.put(key(i), { n: i });
    await store.commit(0);
    for (let i = 0; i < 20000; i += 10) store.put(key(i), { n: i, v: 1 });
    await store.commit(1); // the snapshot of 1 is written from here on, in the background
    const atOne = contents(store);
    for (let v = 2; v <= 5; v++) {
      // Changes all over the key range: updates, removals, inserts.
      for (let i = v; i < 20000; i += 7) {
        if (i % 3 === 0) store.remove(key(i));
        else store.put(key(i), { n: i, v });
      }
      await store.commit(v);
    }
    await store.flushMaintenance();
    expect(readdirSync(stateDir())).toContain('1.snapshot');
    // The snapshot alone (a fresh memory provider at 1 reads only it) is version 1 exactly.
    const fromSnapshot = contents(await open(provider('memory'), 1));
    expect(Object.keys(fromSnapshot)).toHaveLength(10000);
    expect(fromSnapshot).toEqual(atOne);
    expect(store.remaps).toBeGreaterThan(10);
  }, 30_000);

  it('writes one entry per line, readable by both providers; a one-line snapshot is still read', async () => {
    const store = await open(provider('lmdb', { snapshotEvery: 1, retainVersions: 100 }), -1);
    store.put('a', 1);
    store.put('b', { c: 'line\nbreak' });
    await store.commit(0);
    await store.flushMaintenance();
    const text = readFileSync(path.join(stateDir(), '0.snapshot'), 'utf8');
    expect(text.split('\n').slice(1)).toEqual([
      '{"entries":[',
      '["a",1]',
      ',["b",{"c":"line\\nbreak"}]',
      ']}',
    ]);
    // The payload is one JSON document.
    expect(JSON.parse(text.slice(text.indexOf('\n') + 1))).toEqual({
      entries: [
        ['a', 1],
        ['b', { c: 'line\nbreak' }],
      ],
    });
    // A snapshot as written before streaming (one line) restores in both providers.
    await checkpoint.writeState(
      'shuffle.0',
      'agg',
      { version: 1, kind: 'snapshot' },
      {
        entries: [['old', { n: 1 } as JsonValue]],
      },
    );
    // (A fresh LMDB folder: this instance's cache at 0 would rightly be caught up by deltas, and
    // this hand-made snapshot 1 is not the state at 1.)
    for (const p of [provider('memory'), provider('lmdb', undefined, path.join(dir, 'fresh'))])
      expect(contents(await open(p, 1))).toEqual({ old: { n: 1 } });
  });
});
