// The Source of a query with file sources: Kafka for Kafka topics and the repartition topic, a
// directory per file source. A file source is one task ("partition 0" of a topic of its own,
// fileSourceTopic): the topic holds no records, it only gives the task an owner through the
// engine's consumer group, so exactly one instance lists and reads a directory, ownership moves
// on a crash as any task's does, and the task's transactional id fences a zombie as usual.
// Offsets of a file task count files: range [start, end) is the start-th to (end-1)-th file the
// source took, and the offset log entry names them (OffsetLogEntry.files).
import { createHash } from 'node:crypto';
import { fileSourceTopicPrefix } from '@sluice/contracts';
import type { FileSourceSpec } from '@sluice/query-plan';
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';
import type { Bounds } from '../exec/trigger-planner';
import type { Stage } from '../exec/task-runtime';
import { confinedDirectory } from '../files/confined-directory';
import { FileChangedError, listFiles, MAX_BATCH_BYTES, readFileRecords } from './file-reader';
import { batchFiles, newFiles, type FileCursor, type FileRef } from './file-selection';
import type { SourceRecord, TopicPartition } from './group-reader';
import type { Source } from './source';

/** The one-partition topic that gives a file source's task its owner (named after the path). */
export function fileSourceTopic(scope: string, path: string): string {
  return `${fileSourceTopicPrefix(scope)}${createHash('sha256').update(path).digest('hex').slice(0, 16)}`;
}

export class FileSources implements Source {
  /** Directories reported missing, so the warning is not repeated every trigger. */
  private readonly missing = new Set<string>();

  constructor(
    private readonly inner: Source,
    /** Ownership topic → the file source it stands for. */
    private readonly files: ReadonlyMap<string, FileSourceSpec>,
    /** SLUICE_FILE_SINK_ROOT: file sources' paths are relative to it, as file sinks' are. */
    private readonly root: string,
    /** A file gone or shortened before its batch was read: fatal (true) or a dead letter. */
    private readonly failOnDataLoss: boolean,
    private readonly warn: (msg: string) => void,
  ) {}

  isFileTopic(topic: string): boolean {
    return this.files.has(topic);
  }

  private spec(topic: string): FileSourceSpec {
    const spec = this.files.get(topic);
    if (!spec) throw new Error(`${topic} is not a file source`);
    return spec;
  }

  private async directory(topic: string): Promise<string | undefined> {
    const spec = this.spec(topic);
    const dir = await confinedDirectory(this.root, spec.path, 'file source', false);
    if (!dir && !this.missing.has(topic)) {
      this.missing.add(topic);
      this.warn(`file source directory ${spec.path} (under ${this.root}) does not exist yet; waiting for it`);
    }
    if (dir) this.missing.delete(topic);
    return dir;
  }

  /** The files the next batch of `topic`'s task may take after `cursor`, in order. */
  async nextFiles(topic: string, cursor: FileCursor): Promise<FileRef[]> {
    const dir = await this.directory(topic);
    if (!dir) return [];
    return batchFiles(newFiles(await listFiles(dir), cursor), {
      maxFiles: this.spec(topic).maxFilesPerTrigger,
      maxBytes: MAX_BATCH_BYTES,
    });
  }

  assignment(stage: Stage): TopicPartition[] {
    return this.inner.assignment(stage);
  }

  /** A file topic's bounds come from its directory (the runner asks nextFiles); none here. */
  bounds(topic: string): Promise<Map<number, Bounds>> {
    return this.isFileTopic(topic) ? Promise.resolve(new Map()) : this.inner.bounds(topic);
  }

  async read(
    stage: Stage,
    topic: string,
    partition: number,
    start: number,
    end: number,
    files?: OffsetLogEntry['files'],
  ): Promise<SourceRecord[]> {
    if (!this.isFileTopic(topic)) return this.inner.read(stage, topic, partition, start, end);
    if (!files || files.taken.length !== end - start)
      throw new Error(`file source batch [${start}, ${end}) of ${topic} does not name its files`);
    const dir = await this.directory(topic);
    const out: SourceRecord[] = [];
    for (const [i, file] of files.taken.entries()) {
      try {
        if (!dir) throw new FileChangedError(file.name, 'vanished with its directory');
        for (const r of await readFileRecords(dir, file, topic, start + i)) out.push(r);
      } catch (e) {
        if (!(e instanceof FileChangedError) || this.failOnDataLoss) throw e;
        // failOnDataLoss: false — the file's lines are lost, as Kafka offsets past retention are;
        // a dead letter says which file.
        this.warn(`${e.message}; skipped (failOnDataLoss is false)`);
        out.push({
          topic,
          partition: 0,
          offset: start + i,
          key: Buffer.from(file.name),
          value: null,
          timestampMs: file.mtimeMs,
          headers: { file: file.name },
          refused: e.message,
        });
      }
    }
    return out;
  }

  commitPosition(topic: string, partition: number, offset: number): Promise<void> {
    // A file topic holds no records: there is no lag to show through its group offset.
    return this.isFileTopic(topic) ? Promise.resolve() : this.inner.commitPosition(topic, partition, offset);
  }
}
