// File sink: each task's batch becomes one data file in the sink's directory, committed by an entry
// in the directory's metadata log (file-sink-log.ts), which is the batch's exactly-once marker.
// Writing order: data file (temp name, fsync, rename to its final name) → log entry (same). The
// file's name is fixed by (lineage, task, batch), so a batch re-run after a crash rewrites the same
// file; only files the log names are committed, so a reader never sees a partial batch. Append
// mode only (compile-query refuses the others), as Spark's FileStreamSink.
//
// Unlike Kafka's fenced transactions, nothing stops an instance that lost its partition (a zombie
// past its session timeout) from rewriting a file the new owner committed: it writes the same rows
// under the same name (re-runs of a batch are deterministic), so readers see the same content.
import { createHash } from 'node:crypto';
import type { FileSinkFormat, Row } from '@sluice/query-plan';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import { confinedDirectory } from '../files/confined-directory';
import { encodeRows, FILE_EXTENSIONS } from './file-formats';
import { FileSinkLog } from './file-sink-log';
import type { OutputColumn } from './format-row';
import {
  sendNonEmpty,
  type CommitContext,
  type MarkerContext,
  type Sink,
  type TaskBatchOutput,
} from './sink';

/** The sink's directory under the file root, created if missing (files/confined-directory.ts). */
export async function resolveSinkDirectory(root: string, relative: string): Promise<string> {
  return (await confinedDirectory(root, relative, 'file sink', true))!;
}

export class FileSink implements Sink {
  readonly marker = 'file' as const;
  readonly description: string;
  readonly topics = [];
  readonly guard = undefined;
  private log: FileSinkLog | undefined;
  private store: FileBlobStore | undefined;

  constructor(
    private readonly root: string,
    private readonly relative: string,
    private readonly format: FileSinkFormat,
    private readonly columns: OutputColumn[],
    /** checkpointScope(queryId, epoch): names the lineage's log entries and files. */
    private readonly scope: string,
  ) {
    this.description = `FileSink[${relative}]`;
  }

  async prepare(): Promise<void> {
    this.store = new FileBlobStore(await resolveSinkDirectory(this.root, this.relative));
    this.log = new FileSinkLog(this.store);
  }

  private ready(): { store: FileBlobStore; log: FileSinkLog } {
    if (!this.store || !this.log) throw new Error('file sink used before prepare()');
    return { store: this.store, log: this.log };
  }

  stage(rows: Row[], output: TaskBatchOutput): void {
    output.sinkRows.push(...rows);
  }

  /** part-<lineage hash>-<task>-<batch>.<ext>: fixed per batch, so a re-run replaces, never adds. */
  fileName(task: string, batchId: number): string {
    const lineage = createHash('sha256').update(this.scope).digest('hex').slice(0, 12);
    const safeTask = task.replace(/[^A-Za-z0-9_-]/g, '_');
    return `part-${lineage}-${safeTask}-${String(batchId).padStart(8, '0')}.${FILE_EXTENSIONS[this.format]}`;
  }

  async commit(ctx: CommitContext): Promise<{ refusedRows: number }> {
    const { store, log } = this.ready();
    const rows = ctx.output.sinkRows;
    const files: string[] = [];
    // An empty batch writes no file but still its log entry: the entry is the batch's marker.
    if (rows.length > 0) {
      const name = this.fileName(ctx.task, ctx.entry.batchId);
      await store.put(name, Buffer.from(await encodeRows(this.format, rows, this.columns)));
      files.push(name);
    }
    // Dead letters first: a crash after them and before the entry repeats them on the re-run (at
    // least once, as the PostgreSQL sink's), never loses one.
    await sendNonEmpty(ctx);
    await log.record(this.scope, ctx.task, ctx.entry.batchId, files);
    return { refusedRows: 0 };
  }

  async isCommitted(ctx: MarkerContext): Promise<boolean> {
    const batch = await this.ready().log.committedBatch(this.scope, ctx.task);
    return batch !== undefined && batch >= ctx.entry.batchId;
  }

  committedBatchOf(scope: string, task: string): Promise<number | undefined> {
    return this.ready().log.committedBatch(scope, task);
  }

  async close(): Promise<void> {
    await this.store?.close();
  }
}
