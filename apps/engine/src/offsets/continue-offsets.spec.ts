import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore, type OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import { continuePoint, offsetsJson } from './continue-offsets';

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
    // p2: batch 0 planned, commit log missing, marker says visible → its end. Shuffle tasks are ignored.
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
    expect(asked.sort()).toEqual(['src.clicks.v2.1@2', 'src.clicks.v2.2@0']);
  });

  it('knows no partition of an empty checkpoint', async () => {
    const point = await continuePoint(store, async () => true);
    expect(point.offsets.size).toBe(0);
    expect(point.replanned).toEqual([]);
  });
});
