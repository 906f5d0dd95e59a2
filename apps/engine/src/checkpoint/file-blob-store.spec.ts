import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlobStore } from './file-blob-store';

let root: string;
let store: FileBlobStore;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'sluice-blobs-'));
  store = new FileBlobStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const small = (text: string): Buffer => Buffer.from(text, 'utf8');
// Above the store's small-blob size: written through the asynchronous path.
const large = (fill: string): Buffer => Buffer.alloc(200 * 1024, fill);

describe('FileBlobStore', () => {
  for (const [name, blob] of [
    ['a small blob', small],
    ['a large blob', large],
  ] as const) {
    it(`putIfAbsent creates ${name} once: a second write is refused and leaves the first content`, async () => {
      expect(await store.putIfAbsent('tasks/t/offsets/0', blob('a'))).toBe(true);
      expect(await store.putIfAbsent('tasks/t/offsets/0', blob('b'))).toBe(false);
      expect(await store.get('tasks/t/offsets/0')).toEqual(blob('a'));
      // No temporary file is left beside it, and listings show only the blob.
      expect(readdirSync(path.join(root, 'tasks/t/offsets'))).toEqual(['0']);
      expect(await store.list('tasks/t/offsets')).toEqual(['0']);
    });

    it(`put replaces ${name} whole`, async () => {
      await store.put('tasks/t/commits/0', blob('a'));
      await store.put('tasks/t/commits/0', blob('b'));
      expect(readFileSync(path.join(root, 'tasks/t/commits/0'))).toEqual(blob('b'));
      expect(readdirSync(path.join(root, 'tasks/t/commits'))).toEqual(['0']);
    });
  }

  it('of concurrent create-exclusive writes of one name, exactly one wins', async () => {
    const wins = await Promise.all(
      ['a', 'b', 'c', 'd'].map((c) => store.putIfAbsent('tasks/t/offsets/7', small(c))),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = ['a', 'b', 'c', 'd'][wins.indexOf(true)]!;
    expect(await store.get('tasks/t/offsets/7')).toEqual(small(winner));
  });

  it('writes again into a directory removed after its first write (the directory is made anew)', async () => {
    await store.putIfAbsent('tasks/t/offsets/0', small('a'));
    rmSync(path.join(root, 'tasks'), { recursive: true });
    expect(await store.putIfAbsent('tasks/t/offsets/1', small('b'))).toBe(true);
    await store.put('tasks/t/commits/1', small('c'));
    expect(await store.get('tasks/t/offsets/1')).toEqual(small('b'));
    expect(await store.get('tasks/t/commits/1')).toEqual(small('c'));
  });

  it('refuses a path that leaves its root', async () => {
    await expect(store.put('tasks/../../x', small('a'))).rejects.toThrow(/invalid checkpoint path/);
  });
});
