import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { toCsv } from './file-formats';
import { COMPACT_EVERY, FileSinkLog, METADATA_DIR } from './file-sink-log';
import { FileSink, resolveSinkDirectory } from './file-sink';
import type { OutputColumn } from './format-row';
import type { CommitContext, MarkerContext } from './sink';

const columns: OutputColumn[] = [
  { name: 'id', type: 'long' },
  { name: 'user_id', type: 'string' },
  { name: 'ts', type: 'timestamp' },
];

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-file-sink-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const entry = (batchId: number): OffsetLogEntry => ({ batchId }) as unknown as OffsetLogEntry;

function commitCtx(task: string, batchId: number, rows: Array<Record<string, unknown>>): CommitContext {
  return {
    task,
    entry: entry(batchId),
    output: { kafka: [], sinkRows: rows },
    sendKafka: () => Promise.resolve(),
  };
}
const markerCtx = (task: string, batchId: number): MarkerContext => ({
  task,
  entry: entry(batchId),
  groupMarkerBatch: () => Promise.resolve(undefined),
  inCommitLog: () => Promise.resolve(false),
});

async function sinkAt(format: 'jsonl' | 'csv' | 'parquet' = 'jsonl', scope = 'q1'): Promise<FileSink> {
  const sink = new FileSink(root, 'out/clicks', format, columns, scope);
  await sink.prepare();
  return sink;
}
const committed = () => new FileSinkLog(new FileBlobStore(path.join(root, 'out/clicks'))).committedFiles();

describe('file sink', () => {
  it('makes a batch visible only once its log entry is written, and a re-run replaces the same file', async () => {
    const sink = await sinkAt();
    const row = (id: number) => ({ id, user_id: `u${id}`, ts: Date.UTC(2026, 0, 1) + id });
    await sink.commit(commitCtx('clicks.0', 0, [row(1), row(2)]));
    expect(await sink.isCommitted(markerCtx('clicks.0', 0))).toBe(true);
    expect(await sink.isCommitted(markerCtx('clicks.0', 1))).toBe(false);

    // A crash after the data file of batch 1 and before its entry: the file is there, unlisted.
    const dir = path.join(root, 'out/clicks');
    fs.writeFileSync(path.join(dir, sink.fileName('clicks.0', 1)), 'torn');
    expect(await committed()).toEqual([sink.fileName('clicks.0', 0)]);
    expect(await sink.isCommitted(markerCtx('clicks.0', 1))).toBe(false);

    // The re-run writes the same name, then the entry.
    await sink.commit(commitCtx('clicks.0', 1, [row(3)]));
    expect(await committed()).toEqual([sink.fileName('clicks.0', 0), sink.fileName('clicks.0', 1)]);
    const lines = fs
      .readFileSync(path.join(dir, sink.fileName('clicks.0', 1)), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { id: 3, user_id: 'u3', ts: new Date(Date.UTC(2026, 0, 1) + 3).toISOString() },
    ]);
  });

  it('records an empty batch without a file, and keeps lineages and tasks apart', async () => {
    const a = await sinkAt('jsonl', 'q1');
    await a.commit(commitCtx('clicks.0', 0, []));
    expect(await a.isCommitted(markerCtx('clicks.0', 0))).toBe(true);
    expect(await a.isCommitted(markerCtx('clicks.1', 0))).toBe(false);
    expect(await committed()).toEqual([]);
    const b = await sinkAt('jsonl', 'q1.c1');
    expect(await b.isCommitted(markerCtx('clicks.0', 0))).toBe(false);
    expect(await b.committedBatchOf('q1', 'clicks.0')).toBe(0);
  });

  it(`compacts every ${COMPACT_EVERY} batches without losing a file`, async () => {
    const sink = await sinkAt();
    for (let b = 0; b < COMPACT_EVERY + 5; b++)
      await sink.commit(commitCtx('clicks.0', b, [{ id: b, user_id: 'u', ts: 0 }]));
    const files = await committed();
    expect(files).toHaveLength(COMPACT_EVERY + 5);
    const logDir = path.join(root, 'out/clicks', METADATA_DIR, 'q1', 'clicks.0');
    const entries = fs.readdirSync(logDir).sort();
    expect(entries).toContain(`compact-${COMPACT_EVERY - 1}.json`);
    // The per-batch entries the compact entry covers are gone; the five after it remain.
    expect(entries.filter((e) => /^\d+\.json$/.test(e))).toHaveLength(5);
    expect(await sink.isCommitted(markerCtx('clicks.0', COMPACT_EVERY + 4))).toBe(true);
    expect(await sink.isCommitted(markerCtx('clicks.0', COMPACT_EVERY + 5))).toBe(false);
  });

  it('writes Parquet a Parquet reader reads back with its types', async () => {
    const sink = await sinkAt('parquet');
    await sink.commit(
      commitCtx('clicks.0', 0, [
        { id: 1, user_id: 'a', ts: Date.UTC(2026, 0, 1) },
        { id: 2, user_id: null, ts: null },
      ]),
    );
    const { parquetReadObjects } = await import('hyparquet');
    const file = fs.readFileSync(path.join(root, 'out/clicks', sink.fileName('clicks.0', 0)));
    const rows = await parquetReadObjects({
      file: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength),
    });
    expect(rows).toEqual([
      { id: 1n, user_id: 'a', ts: new Date(Date.UTC(2026, 0, 1)) },
      { id: 2n, user_id: null, ts: null },
    ]);
  });

  it('quotes CSV fields a reader would otherwise split', () => {
    const csv = toCsv(
      [
        { id: 1, user_id: 'a,"b"\nc', ts: 0 },
        { id: 2, user_id: ' padded', ts: null },
      ],
      columns,
    );
    expect(csv).toBe('id,user_id,ts\r\n1,"a,""b""\nc",1970-01-01T00:00:00.000Z\r\n2," padded",\r\n');
  });

  it('never resolves a directory outside its root', async () => {
    await expect(resolveSinkDirectory(root, '../escape')).rejects.toThrow(/leaves the file root/);
    await expect(resolveSinkDirectory(root, '/etc')).rejects.toThrow(/leaves the file root/);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-outside-'));
    fs.symlinkSync(outside, path.join(root, 'link'));
    await expect(resolveSinkDirectory(root, 'link/x')).rejects.toThrow(/outside/);
    fs.rmSync(outside, { recursive: true, force: true });
    expect(await resolveSinkDirectory(root, 'a/b')).toBe(path.join(fs.realpathSync(root), 'a/b'));
  });
});
