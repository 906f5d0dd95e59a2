// VersionScan on a real LMDB database: a scan in small chunks, with writes landing between any
// two entries it yields, returns exactly what one read transaction at the scan's start returns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chunkedEntries,
  compareStorageKeys,
  VersionScan,
  type ChunkSource,
  type RawEntry,
} from './lmdb-version-scan';

let dir: string;
let env: RootDatabase;
let db: Database<unknown, string>;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-version-scan-'));
  env = open({ path: dir, noSync: true, maxDbs: 2 });
  db = env.openDB<unknown, string>('state', {});
});
afterEach(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Keys that sort differently in UTF-16 and UTF-8 (astral vs. high BMP), and plain ones. */
const ODD_KEYS = ['a\u{1F600}', 'a\uFFFD', 'a\uE000', 'é', 'z', 'A'];

function source(betweenChunks: () => void = () => {}): ChunkSource & { chunks: number } {
  const s = {
    chunks: 0,
    readChunk(after: string | null, limit: number): RawEntry[] {
      s.chunks++;
      const range = db.getRange({ ...(after === null ? {} : { start: after, exclusiveStart: true }), limit });
      return [...range].map(({ key, value }) => ({ key: key as string, value }));
    },
    betweenChunks,
  };
  return s;
}

const byKey = (a: RawEntry, b: RawEntry) => compareStorageKeys(a.key, b.key);

/** A deterministic pseudo-random sequence (the same every run). */
function lcg(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
}

describe('compareStorageKeys', () => {
  it('orders keys as LMDB stores them (UTF-8 bytes), not as JS compares strings', () => {
    db.transactionSync(() => {
      for (const k of ODD_KEYS) db.putSync(k, 1);
    });
    const lmdbOrder = [...db.getKeys()] as string[];
    expect([...ODD_KEYS].sort(compareStorageKeys)).toEqual(lmdbOrder);
    // The case that matters: JS's `<` puts the astral character first.
    expect('a\u{1F600}' < 'a\uFFFD').toBe(true);
    expect(compareStorageKeys('a\u{1F600}', 'a\uFFFD')).toBeGreaterThan(0);
  });
});

describe('chunkedEntries', () => {
  it('reads every entry once, in order, in chunks', () => {
    db.transactionSync(() => {
      for (let i = 0; i < 25; i++) db.putSync(`k${String(i).padStart(2, '0')}`, i);
    });
    const src = source();
    const all = [...chunkedEntries(src, 4)];
    expect(all.map((e) => e.value)).toEqual([...Array(25).keys()]);
    expect(src.chunks).toBe(7);
  });
});

describe('VersionScan', () => {
  it('a chunked scan with writes between its entries equals a one-transaction snapshot', () => {
    const random = lcg(7);
    const keyOf = (i: number) => (i < ODD_KEYS.length ? ODD_KEYS[i]! : `key-${i}`);
    db.transactionSync(() => {
      for (let i = 0; i < 300; i += 2) db.putSync(keyOf(i), { n: i });
    });
    // The reference: one read transaction at the version.
    const txn = env.useReadTransaction();
    const oneTransaction = [...db.getRange({ transaction: txn })].map(({ key, value }) => ({
      key: key as string,
      value,
    }));
    txn.done();

    const scan = new VersionScan();
    const write = (i: number) => {
      const k = keyOf(i);
      scan.beforeWrite(k, () => db.get(k));
      // Updates, removals and inserts, ahead of the cursor and behind it.
      if (random(3) === 0) db.removeSync(k);
      else db.putSync(k, { n: i, changed: true });
    };
    let between = 0;
    const chunked: RawEntry[] = [];
    for (const entry of scan.entries(
      source(() => between++),
      7,
    )) {
      chunked.push(entry);
      for (let w = random(4); w > 0; w--) write(random(320));
    }
    expect(between).toBeGreaterThan(10);
    expect(chunked.length).toBe(new Set(chunked.map((e) => e.key)).size);
    expect(chunked.sort(byKey)).toEqual(oneTransaction);
    // The database did change under the scan, and the scan holds nothing afterwards.
    const now = [...db.getRange()].map(({ key, value }) => ({ key: key as string, value }));
    expect(now).not.toEqual(oneTransaction);
    expect(scan.heldKeys).toBe(0);
  });

  it('keeps before-images only of keys ahead of its cursor', () => {
    db.transactionSync(() => {
      for (const k of ['a', 'b', 'c', 'd']) db.putSync(k, k);
    });
    const scan = new VersionScan();
    const it = scan.entries(source(), 2);
    expect(it.next().value).toEqual({ key: 'a', value: 'a' });
    // Read: a and b (one chunk); b is behind the cursor, d ahead of it.
    for (const k of ['b', 'd']) {
      scan.beforeWrite(k, () => db.get(k));
      db.removeSync(k);
    }
    scan.beforeWrite('bb', () => db.get('bb'));
    db.putSync('bb', 'new');
    expect(scan.heldKeys).toBe(2);
    expect([...it]).toEqual([
      { key: 'b', value: 'b' },
      { key: 'c', value: 'c' },
      { key: 'd', value: 'd' },
    ]);
  });
});
