import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore, type OffsetLogEntry } from './checkpoint-store';
import { CheckpointCorruptError } from './checksum-frame';
import { FileBlobStore } from './file-blob-store';
import { parseCheckpointUri } from './open-checkpoint-store';

let dir: string;
let store: CheckpointStore;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-ckpt-'));
  store = new CheckpointStore(new FileBlobStore(dir), dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entry = (batchId: number, start: number, end: number): OffsetLogEntry => ({
  batchId,
  range: { topic: 'clicks', partition: 0, start, end },
  watermarkMs: 1000,
  batchTimestampMs: 5000,
  planVersion: 1,
});

describe('CheckpointStore on a local directory', () => {
  it('fixes the start offsets of a continuing lineage once: the first writer wins', async () => {
    expect(await store.readStartOffsets()).toBeUndefined();
    const first = await store.initStartOffsets({ continuedFrom: 0, offsets: { 'clicks:0': 25 } });
    const second = await store.initStartOffsets({ continuedFrom: 0, offsets: { 'clicks:0': 99 } });
    expect(first).toEqual({ continuedFrom: 0, offsets: { 'clicks:0': 25 } });
    expect(second).toEqual(first);
    expect(await store.readStartOffsets()).toEqual(first);
  });

  it('keeps the first metadata written and reports it to later instances', async () => {
    const first = {
      queryId: 'q1',
      created: '2026-01-01T00:00:00.000Z',
      planHash: 'abc',
      numShufflePartitions: 8,
    };
    expect(await store.initMetadata(first)).toEqual(first);
    expect(await store.initMetadata({ ...first, planHash: 'other', numShufflePartitions: 4 })).toEqual(first);
    expect(await store.readMetadata()).toEqual(first);
  });

  it('stores plans by version', async () => {
    await store.writePlan(1, { op: 'project' });
    await store.writePlan(2, { op: 'filter' });
    expect(await store.planVersions()).toEqual([1, 2]);
    expect(await store.readPlan(2)).toEqual({ op: 'filter' });
  });

  it('write-ahead offsets are create-exclusive: a second planner gets the stored range back', async () => {
    expect(await store.writeOffsets('source-clicks-0', entry(3, 10, 20))).toEqual(entry(3, 10, 20));
    expect(await store.writeOffsets('source-clicks-0', entry(3, 10, 99))).toEqual(entry(3, 10, 20));
  });

  it('reports the newest planned and committed batch of a task', async () => {
    expect(await store.latest('t')).toEqual({});
    for (const id of [0, 1, 2, 10]) await store.writeOffsets('t', entry(id, id, id + 1));
    for (const id of [0, 1, 2])
      await store.writeCommit('t', { batchId: id, maxEventTimeMs: null, committedAt: 'now' });
    const latest = await store.latest('t');
    expect(latest.offsets?.batchId).toBe(10);
    expect(latest.commit?.batchId).toBe(2);
    expect(await store.tasks()).toEqual(['t']);
  });

  it('purges batches older than the retention horizon', async () => {
    for (let id = 0; id < 5; id++) {
      await store.writeOffsets('t', entry(id, id, id + 1));
      await store.writeCommit('t', { batchId: id, maxEventTimeMs: 5, committedAt: 'now' });
    }
    expect(await store.purgeBatches('t', 3)).toBe(6);
    expect(readdirSync(path.join(dir, 'tasks/t/offsets')).sort()).toEqual(['3', '4']);
    expect(readdirSync(path.join(dir, 'tasks/t/commits')).sort()).toEqual(['3', '4']);
  });

  it('leaves no temporary files behind after writes', async () => {
    await store.writeCommit('t', { batchId: 0, maxEventTimeMs: null, committedAt: 'now' });
    await store.writeCommit('t', { batchId: 0, maxEventTimeMs: 1, committedAt: 'later' });
    expect(readdirSync(path.join(dir, 'tasks/t/commits'))).toEqual(['0']);
  });

  it('lists state files by version, deltas before snapshots', async () => {
    await store.writeState('t', 'agg', { version: 2, kind: 'delta' }, []);
    await store.writeState('t', 'agg', { version: 1, kind: 'delta' }, []);
    await store.writeState('t', 'agg', { version: 2, kind: 'snapshot' }, []);
    expect(await store.listState('t', 'agg')).toEqual([
      { version: 1, kind: 'delta' },
      { version: 2, kind: 'delta' },
      { version: 2, kind: 'snapshot' },
    ]);
  });
});

describe('checkpoint corruption is an error naming the file', () => {
  it('a truncated commit file', async () => {
    await store.writeCommit('t', { batchId: 4, maxEventTimeMs: 7, committedAt: 'now' });
    const file = path.join(dir, 'tasks/t/commits/4');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 3));
    await expect(store.readCommit('t', 4)).rejects.toThrow(CheckpointCorruptError);
    await expect(store.latest('t')).rejects.toThrow(`corrupt checkpoint file ${file}: expected`);
  });

  it('a flipped byte in an offsets file', async () => {
    await store.writeOffsets('t', entry(0, 0, 50));
    const file = path.join(dir, 'tasks/t/offsets/0');
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
    writeFileSync(file, bytes);
    await expect(store.readOffsets('t', 0)).rejects.toThrow(
      `corrupt checkpoint file ${file}: checksum mismatch`,
    );
  });

  it('a file without the frame header (e.g. hand-edited JSON)', async () => {
    await store.writeCommit('t', { batchId: 0, maxEventTimeMs: 7, committedAt: 'now' });
    const file = path.join(dir, 'tasks/t/commits/0');
    writeFileSync(file, '{"batchId":0}');
    await expect(store.readCommit('t', 0)).rejects.toThrow(`corrupt checkpoint file ${file}`);
  });

  it('a well-framed file with the wrong content', async () => {
    await store.writeState('t', 'agg', { version: 1, kind: 'delta' }, []);
    const file = path.join(dir, 'metadata');
    writeFileSync(file, readFileSync(path.join(dir, 'tasks/t/state/agg/1.delta')));
    await expect(store.readMetadata()).rejects.toThrow(`corrupt checkpoint file ${file}: unexpected content`);
  });

  it('an empty state file', async () => {
    await store.writeState('t', 'agg', { version: 1, kind: 'snapshot' }, [['k', 1]]);
    const file = path.join(dir, 'tasks/t/state/agg/1.snapshot');
    writeFileSync(file, '');
    await expect(store.readState('t', 'agg', { version: 1, kind: 'snapshot' })).rejects.toThrow(file);
  });
});

describe('parseCheckpointUri', () => {
  it('accepts plain paths, file URIs and PostgreSQL URLs', () => {
    expect(parseCheckpointUri('/var/ckpt/q1')).toEqual({ kind: 'file', dir: '/var/ckpt/q1' });
    expect(parseCheckpointUri('file:///var/ckpt/q1')).toEqual({ kind: 'file', dir: '/var/ckpt/q1' });
    expect(parseCheckpointUri('relative/dir')).toEqual({ kind: 'file', dir: path.resolve('relative/dir') });
    expect(parseCheckpointUri('postgresql://u@h:5432/db')).toEqual({
      kind: 'postgres',
      connectionString: 'postgresql://u@h:5432/db',
    });
  });
  it('rejects other schemes', () => {
    expect(() => parseCheckpointUri('s3://bucket/x')).toThrow('unsupported checkpoint URI "s3://bucket/x"');
  });
});
