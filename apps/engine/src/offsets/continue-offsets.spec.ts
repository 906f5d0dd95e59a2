import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore, type OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import {
  continuePoint,
  groupsHash,
  offsetsJson,
  partialReplay,
  replays,
  withBacklog,
  MAX_PARTIAL_GROUPS,
  MAX_REPLAY_RANGES,
} from './continue-offsets';

let dir: string;
let store: CheckpointStore;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-continue-'));
  store = new CheckpointStore(new FileBlobStore(dir), dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (
  topic: string,
  partition: number,
  batchId: number,
  start: number,
  end: number,
): OffsetLogEntry => ({
  batchId,
  range: { topic, partition, start, end },
  watermarkMs: 0,
  batchTimestampMs: 0,
  planVersion: 1,
});
const commit = (batchId: number) => ({
  batchId,
  maxEventTimeMs: null,
  committedAt: new Date(0).toISOString(),
});

describe('continuePoint', () => {
  it('starts each source partition after the last visible batch of the old checkpoint', async () => {
    // p0: batch 1 committed → its end. p1: batch 2 planned, not committed, marker says no → its start.
    // p2: batch 0 planned, commit log missing, marker says visible → its end. shuffle.0: batch 4 not visible → its start.
    await store.writeOffsets('src.clicks.v2.0', entry('clicks.v2', 0, 0, 0, 10));
    await store.writeCommit('src.clicks.v2.0', commit(0));
    await store.writeOffsets('src.clicks.v2.0', entry('clicks.v2', 0, 1, 10, 25));
    await store.writeCommit('src.clicks.v2.0', commit(1));
    await store.writeOffsets('src.clicks.v2.1', entry('clicks.v2', 1, 1, 5, 8));
    await store.writeCommit('src.clicks.v2.1', commit(1));
    await store.writeOffsets('src.clicks.v2.1', entry('clicks.v2', 1, 2, 8, 30));
    await store.writeOffsets('src.clicks.v2.2', entry('clicks.v2', 2, 0, 3, 7));
    await store.writeOffsets('shuffle.0', entry('sluice.q.repartition', 0, 4, 0, 99));
    const asked: string[] = [];
    const point = await continuePoint(store, async (task, wal) => {
      asked.push(`${task}@${wal.batchId}`);
      return task === 'src.clicks.v2.2';
    });
    expect(offsetsJson(point.offsets)).toEqual({ 'clicks.v2': { '0': 25, '1': 8, '2': 7 } });
    expect(point.replanned).toEqual(['src.clicks.v2.1']);
    // The marker is consulted only for a batch without a commit-log entry.
    expect(asked.sort()).toEqual(['shuffle.0@4', 'src.clicks.v2.1@2', 'src.clicks.v2.2@0']);
    expect([...point.shuffle]).toEqual([[0, 0]]);
  });

  it('gives the old shuffle position after the last visible shuffle batch', async () => {
    await store.writeOffsets('shuffle.1', entry('sluice.q.repartition', 1, 0, 0, 40));
    await store.writeCommit('shuffle.1', commit(0));
    await store.writeOffsets('shuffle.1', entry('sluice.q.repartition', 1, 1, 40, 70));
    await store.writeOffsets('shuffle.2', entry('sluice.q.repartition', 2, 0, 0, 12));
    const point = await continuePoint(store, async (task) => task === 'shuffle.2');
    expect(new Map(point.shuffle)).toEqual(
      new Map([
        [1, 40],
        [2, 12],
      ]),
    );
    expect(point.offsets.size).toBe(0);
  });

  it('knows no partition of an empty checkpoint', async () => {
    const point = await continuePoint(store, async () => true);
    expect(point.offsets.size).toBe(0);
    expect(point.replanned).toEqual([]);
  });
});

describe('withBacklog', () => {
  const o = (partition: number, offset: number) => ({ topic: 't', partition, offset });

  it('moves each partition back to its oldest unaggregated record and replays exactly the backlog below the old end', () => {
    const offsets = new Map([
      ['t:0', 100],
      ['t:1', 50],
      ['t:2', 7],
    ]);
    // p0: 90, 91, 92 and 95 pending (93, 94 were aggregated). p1: 60 is past the old end (read anyway).
    const folded = withBacklog(offsets, [o(0, 95), o(0, 90), o(0, 91), o(0, 92), o(0, 91), o(1, 60)]);
    expect(offsetsJson(folded.offsets)).toEqual({ t: { '0': 90, '1': 50, '2': 7 } });
    expect(Object.fromEntries(folded.replay)).toEqual({
      't:0': {
        until: 100,
        ranges: [
          [90, 93],
          [95, 96],
        ],
      },
    });
    const set = folded.replay.get('t:0');
    expect([89, 90, 92, 93, 94, 95, 96, 99, 100, 150].map((n) => replays(set, n))).toEqual([
      false,
      true,
      true,
      false,
      false,
      true,
      false,
      false,
      true,
      true,
    ]);
    // A partition without a replay set reads everything.
    expect(replays(undefined, 3)).toBe(true);
  });

  it('ignores origins of partitions the old checkpoint never read (they start at their earliest offset)', () => {
    const folded = withBacklog(new Map([['t:0', 10]]), [o(5, 3)]);
    expect(folded.replay.size).toBe(0);
    expect(offsetsJson(folded.offsets)).toEqual({ t: { '0': 10 } });
  });

  it('refuses a backlog too fragmented to store, naming the way out', () => {
    const origins = Array.from({ length: MAX_REPLAY_RANGES + 1 }, (_, i) => o(0, i * 2));
    expect(() => withBacklog(new Map([['t:0', (MAX_REPLAY_RANGES + 2) * 2]]), origins)).toThrow(
      /too fragmented.*startingOffsets earliest/,
    );
  });

  it('keeps per record the groups still to aggregate when a record of several groups was partly aggregated', () => {
    const g = (offset: number, n: number, key: string) => ({
      ...o(0, offset),
      groups: { n, h: `h${offset}`, key },
    });
    // 10: both of its two windows pending (whole); 11: one of two (partial); 12: two of three; 13: no groups info.
    const folded = withBacklog(new Map([['t:0', 20]]), [
      g(10, 2, 'a'),
      g(10, 2, 'b'),
      g(11, 2, 'b'),
      g(12, 3, 'c'),
      g(12, 3, 'a'),
      g(12, 3, 'c'),
      o(0, 13),
    ]);
    expect(folded.partialRecords).toBe(2);
    const set = folded.replay.get('t:0')!;
    expect(set.ranges).toEqual([[10, 14]]);
    expect(set.partial).toEqual({ '11': { h: 'h11', keys: ['b'] }, '12': { h: 'h12', keys: ['a', 'c'] } });
    expect(partialReplay(set, 10)).toBeUndefined();
    expect(partialReplay(set, 12)).toEqual({ h: 'h12', keys: ['a', 'c'] });
    expect(partialReplay(set, 25)).toBeUndefined();
  });

  it('refuses more partly aggregated groups than it may store, naming the way out', () => {
    const origins = Array.from({ length: MAX_PARTIAL_GROUPS + 1 }, (_, i) => ({
      ...o(0, i),
      groups: { n: 2, h: 'h', key: 'k' },
    }));
    expect(() => withBacklog(new Map([['t:0', MAX_PARTIAL_GROUPS + 5]]), origins)).toThrow(
      /partly aggregated.*startingOffsets earliest/,
    );
  });

  it("hashes the set of a record's groups regardless of their order", () => {
    const a = { 'window.start': 0, user_id: 'u' };
    const b = { 'window.start': 30_000, user_id: 'u' };
    expect(groupsHash([a, b])).toBe(groupsHash([b, a]));
    expect(groupsHash([a, b])).not.toBe(groupsHash([a]));
    expect(groupsHash([a])).toMatch(/^[0-9a-f]{16}$/);
  });
});
