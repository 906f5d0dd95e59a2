import { describe, expect, it } from 'vitest';
import {
  advanceCursor,
  batchFiles,
  EMPTY_CURSOR,
  fileBatchOf,
  isCandidateName,
  newFiles,
  SEEN_WINDOW_MS,
  type FileRef,
} from './file-selection';

const f = (name: string, mtimeMs: number, size = 10): FileRef => ({ name, size, mtimeMs });

describe('file selection', () => {
  it('ignores names starting with . or _ (files still being written)', () => {
    expect(['a.jsonl', 'part-0.csv'].every(isCandidateName)).toBe(true);
    expect(['.a.jsonl.tmp', '_SUCCESS', '_temporary', ''].some(isCandidateName)).toBe(false);
    expect(newFiles([f('.x', 1), f('_y', 1), f('z', 1)], EMPTY_CURSOR).map((x) => x.name)).toEqual(['z']);
  });

  it('orders new files oldest first, equal mtimes by name', () => {
    const listing = [f('c', 300), f('b', 100), f('a', 100), f('d', 200)];
    expect(newFiles(listing, EMPTY_CURSOR).map((x) => x.name)).toEqual(['a', 'b', 'd', 'c']);
  });

  it('never offers a file again once taken, even when it changes', () => {
    const cursor = advanceCursor(EMPTY_CURSOR, [f('a', 100), f('b', 200)]);
    expect(newFiles([f('a', 100), f('b', 900, 99), f('c', 150)], cursor).map((x) => x.name)).toEqual(['c']);
  });

  it('caps a batch at maxFilesPerTrigger and at its bytes, but always takes one file', () => {
    const pending = [f('a', 1, 60), f('b', 2, 60), f('c', 3, 60)];
    expect(batchFiles(pending, { maxFiles: 2, maxBytes: 1000 }).map((x) => x.name)).toEqual(['a', 'b']);
    expect(batchFiles(pending, { maxFiles: undefined, maxBytes: 100 }).map((x) => x.name)).toEqual(['a']);
    expect(batchFiles([f('big', 1, 500)], { maxFiles: undefined, maxBytes: 100 })).toHaveLength(1);
    expect(batchFiles(pending, { maxFiles: undefined, maxBytes: 1000 })).toHaveLength(3);
  });

  it('keeps seen names for the window only; files older than the horizon count as read', () => {
    const t = 10 * SEEN_WINDOW_MS;
    let cursor = advanceCursor(EMPTY_CURSOR, [f('old', t - SEEN_WINDOW_MS - 1), f('recent', t - 5)]);
    cursor = advanceCursor(cursor, [f('new', t)]);
    expect(cursor.horizonMs).toBe(t - SEEN_WINDOW_MS);
    expect(cursor.seen.map(([n]) => n)).toEqual(['new', 'recent']);
    // A file arriving late within the window is read; older than the horizon, it is not.
    const late = [
      f('late', t - 1000),
      f('too-late', t - SEEN_WINDOW_MS - 1),
      f('old', t - SEEN_WINDOW_MS - 1),
    ];
    expect(newFiles(late, cursor).map((x) => x.name)).toEqual(['late']);
  });

  it('never moves the horizon back when an older file is taken late', () => {
    const cursor = advanceCursor(EMPTY_CURSOR, [f('new', 5 * SEEN_WINDOW_MS)]);
    expect(advanceCursor(cursor, [f('late', 4.5 * SEEN_WINDOW_MS)]).horizonMs).toBe(cursor.horizonMs);
    expect(advanceCursor(cursor, [])).toBe(cursor);
  });

  it('plans a batch as the head of the next files the range covers, with the cursor after them', () => {
    const next = [f('a', 1), f('b', 2), f('c', 3)];
    const batch = fileBatchOf({ start: 7, end: 9 }, next, EMPTY_CURSOR);
    expect(batch.taken.map((x) => x.name)).toEqual(['a', 'b']);
    expect(batch.cursor.seen).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(() => fileBatchOf({ start: 0, end: 4 }, next, EMPTY_CURSOR)).toThrow(/4 file\(s\) planned with 3/);
  });

  it('re-planning from the same cursor and listing takes the same files (deterministic)', () => {
    const listing = [f('x', 5), f('y', 5), f('w', 1), f('.tmp', 0)];
    const one = batchFiles(newFiles(listing, EMPTY_CURSOR), { maxFiles: 2, maxBytes: 1e9 });
    const two = batchFiles(newFiles([...listing].reverse(), EMPTY_CURSOR), { maxFiles: 2, maxBytes: 1e9 });
    expect(one).toEqual(two);
    expect(one.map((x) => x.name)).toEqual(['w', 'x']);
  });
});
