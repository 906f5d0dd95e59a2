// The storage primitive under the checkpoint layout: named byte blobs in a directory-like tree.
// The local-filesystem and PostgreSQL stores implement it; the checkpoint layout, framing and
// retention are written once on top (checkpoint-store.ts).

export interface BlobStore {
  /** Human-readable location of a blob, used in error messages (a file path or table/key). */
  describe(path: string): string;
  /** Atomically creates or replaces `path`. */
  put(path: string, data: Buffer): Promise<void>;
  /** Atomically creates `path` unless it exists; returns false (and writes nothing) if it does. */
  putIfAbsent(path: string, data: Buffer): Promise<boolean>;
  get(path: string): Promise<Buffer | undefined>;
  /** Names of the blobs directly under folder `dir` (no recursion); [] when the folder is absent. */
  list(dir: string): Promise<string[]>;
  /** Names of the sub-folders directly under `dir`. */
  listDirs(dir: string): Promise<string[]>;
  delete(paths: string[]): Promise<void>;
  /**
   * Optional, for blobs too large to hold in memory (state snapshots): writes `reserved` bytes,
   * then `chunks`, then overwrites the reserved bytes with `header()` (computed from the chunks),
   * atomically like put. A store without it gets the whole blob through put().
   */
  putStreamed?(
    path: string,
    chunks: AsyncIterable<Buffer>,
    reserved: number,
    header: () => Buffer,
  ): Promise<void>;
  /** Optional: the blob in chunks, or undefined when absent. A store without it is read with get(). */
  getStream?(path: string): Promise<AsyncIterable<Buffer> | undefined>;
  close(): Promise<void>;
}
