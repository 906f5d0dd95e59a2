// The checkpoint layout (ARCHITECTURE.md), on top of a BlobStore:
//   metadata                                   query id, created, plan hash, numShufflePartitions
//   start-offsets                              a continuing lineage's first offsets (fixed once)
//   plan/<version>.json                        compiled plan + state schemas (upgrade checks)
//   tasks/<task>/offsets/<batchId>             write-ahead log: planned range + watermark (+ files)
//   tasks/<task>/commits/<batchId>             the batch is done (sink committed)
//   tasks/<task>/state/<operator>/<v>.delta|.snapshot
// A task is one source partition (stateless stage) or one shuffle partition (stateful stage), so
// ownership of a task can move between instances with its whole history.
// Every file is checksum-framed and schema-validated: damage is an error naming the file.
import { z } from 'zod';
import type { BlobStore } from './blob-store';
import {
  CheckpointCorruptError,
  decodeFrame,
  decodeFrameStream,
  decodeJsonFrame,
  encodeFrame,
  encodeJsonFrame,
  FrameDigest,
  STREAMED_HEADER_BYTES,
} from './checksum-frame';

/** A state file listed a moment ago is gone (maintenance of another owner removed it). */
export class StateFileMissingError extends Error {
  constructor(readonly file: string) {
    super(`missing state file ${file}`);
    this.name = 'StateFileMissingError';
  }
}

const metadataSchema = z.object({
  queryId: z.string().min(1),
  created: z.string(),
  planHash: z.string(),
  numShufflePartitions: z.number().int().positive(),
  /**
   * How this checkpoint's source stage writes the repartition topic (exec/shuffle-codec.ts),
   * fixed when the checkpoint is created so that every engine on it writes one form. Absent in
   * checkpoints created before batching: one record per row ('rows'), which they keep.
   */
  repartitionFormat: z.enum(['rows', 'batch']).optional(),
});
export type QueryMetadata = z.infer<typeof metadataSchema>;

const startOffsetsSchema = z.object({
  /** The checkpoint epoch these offsets were read from. */
  continuedFrom: z.number().int().nonnegative(),
  /** `topic:partition` → first offset. */
  offsets: z.record(z.string(), z.number().int().nonnegative()),
  /**
   * `topic:partition` → the offsets below `until` read again for the old shuffle backlog (the
   * others were the old version's; continue-offsets.ts). Absent when there was no backlog.
   */
  replay: z
    .record(
      z.string(),
      z.object({
        until: z.number().int().nonnegative(),
        ranges: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
        /** Offset → the groups still to aggregate of a partly aggregated record (continue-offsets.ts). */
        partial: z
          .record(z.string().regex(/^\d+$/), z.object({ h: z.string().max(64), keys: z.array(z.string()) }))
          .optional(),
      }),
    )
    .optional(),
  /**
   * What the first start found in the old shuffle backlog (reported in every progress event of
   * the lineage, so the upgrade's gate shows it): rows read, rows without an origin (counted by
   * neither version), records re-read for some of their groups only. Absent without a backlog.
   */
  backlog: z
    .object({
      rows: z.number().int().nonnegative(),
      withoutOrigin: z.number().int().nonnegative(),
      partlyAggregatedRecords: z.number().int().nonnegative(),
    })
    .optional(),
});
export type StartOffsets = z.infer<typeof startOffsetsSchema>;

const offsetRangeSchema = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
});
export type OffsetRange = z.infer<typeof offsetRangeSchema>;

const offsetLogSchema = z.object({
  batchId: z.number().int().nonnegative(),
  range: offsetRangeSchema,
  /** Event-time watermark this batch evaluates with (decided before the batch, Spark-style). */
  watermarkMs: z.number().int(),
  batchTimestampMs: z.number().int(),
  planVersion: z.number().int().nonnegative(),
  /**
   * The transactional id of the instance producer whose trigger transaction commits this batch
   * (kafka-output-log.ts); absent when the task's own producer does (a replay, or a batch of an
   * engine before 2026-12-05). A next owner fences it before reading the batch's marker.
   */
  writer: z.string().min(1).max(249).optional(),
  /**
   * A file source's batch (the offset log stands for Spark's source log): the files it takes, in
   * order (range = their positions in the source's sequence of taken files), and the source's
   * cursor after them (source/file-selection.ts). A re-run reads exactly these files.
   */
  files: z
    .object({
      taken: z.array(
        z.object({
          name: z.string().min(1),
          size: z.number().int().nonnegative(),
          mtimeMs: z.number(),
        }),
      ),
      cursor: z.object({
        horizonMs: z.number(),
        seen: z.array(z.tuple([z.string().min(1), z.number()])),
      }),
    })
    .optional(),
});
export type OffsetLogEntry = z.infer<typeof offsetLogSchema>;

const commitLogSchema = z.object({
  batchId: z.number().int().nonnegative(),
  /** Highest event time seen by this task so far (for the next batch's watermark). */
  maxEventTimeMs: z.number().int().nullable(),
  committedAt: z.string(),
});
export type CommitLogEntry = z.infer<typeof commitLogSchema>;

export type StateFileKind = 'delta' | 'snapshot';
export interface StateFileRef {
  version: number;
  kind: StateFileKind;
}

const BATCH_FILE = /^\d+$/;
const STATE_FILE = /^(\d+)\.(delta|snapshot)$/;
const TASK_ID = /^[A-Za-z0-9._-]+$/;

function checkTask(task: string): string {
  if (!TASK_ID.test(task)) throw new Error(`invalid task id "${task}"`);
  return task;
}

export class CheckpointStore {
  constructor(
    private readonly blobs: BlobStore,
    /** Where the checkpoint lives, for logs and errors. */
    readonly location: string,
  ) {}

  private async readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const data = await this.blobs.get(path);
    if (data === undefined) return undefined;
    const file = this.blobs.describe(path);
    const parsed = schema.safeParse(decodeJsonFrame(data, file));
    if (!parsed.success)
      throw new CheckpointCorruptError(
        file,
        `unexpected content (${parsed.error.issues[0]?.message ?? 'invalid'})`,
      );
    return parsed.data;
  }

  private async batchIds(dir: string): Promise<number[]> {
    return (await this.blobs.list(dir))
      .filter((n) => BATCH_FILE.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  // ---- query level ----

  readMetadata(): Promise<QueryMetadata | undefined> {
    return this.readJson('metadata', metadataSchema);
  }

  /** Creates the metadata file unless present; returns what the checkpoint holds. */
  async initMetadata(metadata: QueryMetadata): Promise<QueryMetadata> {
    await this.blobs.putIfAbsent('metadata', encodeJsonFrame(metadataSchema.parse(metadata)));
    const stored = await this.readMetadata();
    if (!stored) throw new Error(`checkpoint metadata vanished at ${this.blobs.describe('metadata')}`);
    return stored;
  }

  /**
   * The first offsets of a lineage that continues another one, fixed by whoever writes them first:
   * every instance, and every later start, begins from the same point even though the old
   * checkpoint may move on (a rollback runs the old version again).
   */
  async initStartOffsets(start: StartOffsets): Promise<StartOffsets> {
    await this.blobs.putIfAbsent('start-offsets', encodeJsonFrame(startOffsetsSchema.parse(start)));
    const stored = await this.readStartOffsets();
    if (!stored) throw new Error(`start offsets vanished at ${this.blobs.describe('start-offsets')}`);
    return stored;
  }

  readStartOffsets(): Promise<StartOffsets | undefined> {
    return this.readJson('start-offsets', startOffsetsSchema);
  }

  async writePlan(version: number, plan: unknown): Promise<void> {
    await this.blobs.put(`plan/${version}.json`, encodeJsonFrame(plan));
  }

  async readPlan(version: number): Promise<unknown> {
    const path = `plan/${version}.json`;
    const data = await this.blobs.get(path);
    return data === undefined ? undefined : decodeJsonFrame(data, this.blobs.describe(path));
  }

  async planVersions(): Promise<number[]> {
    return (await this.blobs.list('plan'))
      .map((n) => /^(\d+)\.json$/.exec(n)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async tasks(): Promise<string[]> {
    return (await this.blobs.listDirs('tasks')).sort();
  }

  // ---- per task: offsets (WAL) and commits ----

  /**
   * Write-ahead record of batch `entry.batchId` for `task`. Create-exclusive: when the batch is
   * already planned (a crashed or fenced owner wrote it) the stored plan wins and is returned, so
   * every owner replays the same offsets.
   */
  async writeOffsets(task: string, entry: OffsetLogEntry): Promise<OffsetLogEntry> {
    const path = `tasks/${checkTask(task)}/offsets/${entry.batchId}`;
    if (await this.blobs.putIfAbsent(path, encodeJsonFrame(offsetLogSchema.parse(entry)))) return entry;
    const stored = await this.readJson(path, offsetLogSchema);
    if (!stored) throw new Error(`offset log ${this.blobs.describe(path)} vanished`);
    return stored;
  }

  readOffsets(task: string, batchId: number): Promise<OffsetLogEntry | undefined> {
    return this.readJson(`tasks/${checkTask(task)}/offsets/${batchId}`, offsetLogSchema);
  }

  async writeCommit(task: string, entry: CommitLogEntry): Promise<void> {
    await this.blobs.put(
      `tasks/${checkTask(task)}/commits/${entry.batchId}`,
      encodeJsonFrame(commitLogSchema.parse(entry)),
    );
  }

  readCommit(task: string, batchId: number): Promise<CommitLogEntry | undefined> {
    return this.readJson(`tasks/${checkTask(task)}/commits/${batchId}`, commitLogSchema);
  }

  /** The newest planned batch and the newest committed batch of a task (Spark's recovery inputs). */
  async latest(task: string): Promise<{ offsets?: OffsetLogEntry; commit?: CommitLogEntry }> {
    const [planned, committed] = await Promise.all([
      this.batchIds(`tasks/${checkTask(task)}/offsets`),
      this.batchIds(`tasks/${task}/commits`),
    ]);
    const lastPlanned = planned.at(-1);
    const lastCommitted = committed.at(-1);
    const [offsets, commit] = await Promise.all([
      lastPlanned === undefined ? undefined : this.readOffsets(task, lastPlanned),
      lastCommitted === undefined ? undefined : this.readCommit(task, lastCommitted),
    ]);
    return { ...(offsets ? { offsets } : {}), ...(commit ? { commit } : {}) };
  }

  /** Deletes offsets/commits of batches below `minBatchId` (retention). */
  async purgeBatches(task: string, minBatchId: number): Promise<number> {
    const doomed: string[] = [];
    for (const kind of ['offsets', 'commits']) {
      for (const id of await this.batchIds(`tasks/${checkTask(task)}/${kind}`)) {
        if (id < minBatchId) doomed.push(`tasks/${task}/${kind}/${id}`);
      }
    }
    await this.blobs.delete(doomed);
    return doomed.length;
  }

  // ---- per task: state files ----

  private statePath(task: string, operator: string, ref: StateFileRef): string {
    if (!TASK_ID.test(operator)) throw new Error(`invalid operator id "${operator}"`);
    return `tasks/${checkTask(task)}/state/${operator}/${ref.version}.${ref.kind}`;
  }

  async writeState(task: string, operator: string, ref: StateFileRef, payload: unknown): Promise<void> {
    await this.writeStateJson(task, operator, ref, JSON.stringify(payload));
  }

  /** Same as writeState for a payload the caller already serialised. */
  async writeStateJson(task: string, operator: string, ref: StateFileRef, json: string): Promise<void> {
    await this.blobs.put(this.statePath(task, operator, ref), encodeFrame(Buffer.from(json, 'utf8')));
  }

  /**
   * Writes a state file from text chunks without holding it whole (a snapshot of millions of
   * keys); returns its payload bytes. On a store without streamed writes the chunks are joined.
   */
  async writeStateStream(
    task: string,
    operator: string,
    ref: StateFileRef,
    chunks: Iterable<string> | AsyncIterable<string>,
  ): Promise<number> {
    const path = this.statePath(task, operator, ref);
    const digest = new FrameDigest();
    async function* bytes(): AsyncGenerator<Buffer> {
      for await (const text of chunks) {
        const chunk = Buffer.from(text, 'utf8');
        digest.update(chunk);
        yield chunk;
      }
    }
    if (this.blobs.putStreamed) {
      await this.blobs.putStreamed(path, bytes(), STREAMED_HEADER_BYTES, () => digest.header());
    } else {
      const parts: Buffer[] = [];
      for await (const chunk of bytes()) parts.push(chunk);
      await this.blobs.put(path, encodeFrame(Buffer.concat(parts)));
    }
    return digest.length;
  }

  /**
   * A state file's payload as batches of lines, read in chunks where the store can. Checked as
   * it is read: damage found at the end (length, checksum) throws after earlier lines were
   * yielded, so a consumer must treat what it applied as provisional until the iteration ends.
   */
  async *readStateLines(task: string, operator: string, ref: StateFileRef): AsyncGenerator<string[]> {
    const path = this.statePath(task, operator, ref);
    const file = this.blobs.describe(path);
    let payload: AsyncIterable<Buffer>;
    const stream = this.blobs.getStream ? await this.blobs.getStream(path) : undefined;
    if (stream) payload = decodeFrameStream(stream, file);
    else {
      const data = await this.blobs.get(path);
      if (data === undefined) throw new StateFileMissingError(file);
      payload = (async function* () {
        yield decodeFrame(data, file);
      })();
    }
    yield* splitLines(payload);
  }

  async readState(task: string, operator: string, ref: StateFileRef): Promise<unknown> {
    const path = this.statePath(task, operator, ref);
    const data = await this.blobs.get(path);
    if (data === undefined) throw new StateFileMissingError(this.blobs.describe(path));
    return decodeJsonFrame(data, this.blobs.describe(path));
  }

  describeState(task: string, operator: string, ref: StateFileRef): string {
    return this.blobs.describe(this.statePath(task, operator, ref));
  }

  async listState(task: string, operator: string): Promise<StateFileRef[]> {
    return (await this.blobs.list(`tasks/${checkTask(task)}/state/${operator}`))
      .map((n) => STATE_FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ version: Number(m[1]), kind: m[2] as StateFileKind }))
      .sort((a, b) => a.version - b.version || (a.kind === b.kind ? 0 : a.kind === 'delta' ? -1 : 1));
  }

  async deleteState(task: string, operator: string, refs: StateFileRef[]): Promise<void> {
    await this.blobs.delete(refs.map((r) => this.statePath(task, operator, r)));
  }

  close(): Promise<void> {
    return this.blobs.close();
  }
}

/** Batches of complete lines (without the newline) of a UTF-8 byte stream. */
async function* splitLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  // The unfinished line's pieces, joined once its newline arrives (a long line costs no re-copies).
  let pending: Buffer[] = [];
  for await (const chunk of chunks) {
    let nl = chunk.indexOf(0x0a);
    if (nl < 0) {
      pending.push(chunk);
      continue;
    }
    const data = pending.length > 0 ? Buffer.concat([...pending, chunk]) : chunk;
    nl += data.length - chunk.length;
    pending = [];
    const lines: string[] = [];
    let start = 0;
    for (; nl >= 0; nl = data.indexOf(0x0a, start)) {
      // A newline byte never occurs inside a multi-byte UTF-8 sequence, so each line decodes alone.
      lines.push(data.toString('utf8', start, nl));
      start = nl + 1;
    }
    if (start < data.length) pending.push(data.subarray(start));
    yield lines;
  }
  if (pending.length > 0) yield [Buffer.concat(pending).toString('utf8')];
}
