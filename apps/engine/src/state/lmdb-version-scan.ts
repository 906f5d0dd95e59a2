// A full scan of an LMDB database in chunks, each chunk its own short read, so the store can drop
// its mapped pages between chunks (close and reopen the environment: the only way lmdb-js gives
// to unmap them; a read transaction held over the whole scan would pin every page it touched).
//
// A snapshot must still read exactly one version although commits may land between its chunks
// (snapshots are written in the background while the query runs on). VersionScan keeps that
// version by copy-on-write: before a commit writes a key the scan has not reached yet, it keeps
// the key's value at the scanned version (a before-image, or ABSENT when the key did not exist).
// The scan uses the before-image when it meets the key, and yields the before-images of keys it
// never met (removed since) at the end. Its memory is the keys changed ahead of the cursor while
// the scan runs, not the state.

/** The value a key had at the scanned version when it did not exist then. */
export const ABSENT = Symbol('absent');

export interface RawEntry {
  /** The key as stored in LMDB (a string; see storageKey in lmdb-state-store.ts). */
  key: string;
  /** The value as lmdb-js decodes it. */
  value: unknown;
}

/** Where a chunked scan reads: the store's database, which may be reopened between chunks. */
export interface ChunkSource {
  /** Up to `limit` entries in key order after `after` (from the first key when null), read at once. */
  readChunk(after: string | null, limit: number): RawEntry[];
  /** Called between chunks, when the scan holds no LMDB memory: may drop mapped pages. */
  betweenChunks(): void;
}

/**
 * LMDB's order of the store's keys: lmdb-js (ordered-binary) writes a string key as its UTF-8
 * bytes (keys that would encode otherwise are hashed by the store), and LMDB compares bytes. JS's
 * `<` compares UTF-16 code units, which differs for characters beyond the BMP.
 */
export function compareStorageKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Reads every entry of `source` in chunks (no version kept: for scans no commit can interleave). */
export function* chunkedEntries(source: ChunkSource, chunkEntries: number): Generator<RawEntry> {
  let after: string | null = null;
  for (;;) {
    const chunk = source.readChunk(after, chunkEntries);
    yield* chunk;
    if (chunk.length < chunkEntries) return;
    after = chunk[chunk.length - 1]!.key;
    source.betweenChunks();
  }
}

/** One version of a database read in chunks while later commits may write (see the top). */
export class VersionScan {
  /** The last key read; every key at or before it has been read (or was absent at the version). */
  private cursor: string | null = null;
  private done = false;
  private readonly before = new Map<string, unknown>();

  /** Keys whose before-image is held (the scan's extra memory). */
  get heldKeys(): number {
    return this.before.size;
  }

  /**
   * To be called by every write to `key` after the scanned version, before the write:
   * `current` reads the key's value as committed (undefined when absent).
   */
  beforeWrite(key: string, current: () => unknown): void {
    if (this.done || this.before.has(key)) return;
    if (this.cursor !== null && compareStorageKeys(key, this.cursor) <= 0) return;
    const value = current();
    this.before.set(key, value === undefined ? ABSENT : value);
  }

  /** The entries at the scanned version, in chunks of `chunkEntries` read from `source`. */
  *entries(source: ChunkSource, chunkEntries: number): Generator<RawEntry> {
    for (;;) {
      const chunk = source.readChunk(this.cursor, chunkEntries);
      const last = chunk.length < chunkEntries;
      if (chunk.length > 0) this.cursor = chunk[chunk.length - 1]!.key;
      // From here on a write ahead of the cursor is recorded; what was read is fixed now.
      if (last) this.done = true;
      const atVersion: RawEntry[] = [];
      for (const entry of chunk) {
        if (!this.before.has(entry.key)) {
          atVersion.push(entry);
          continue;
        }
        const value = this.before.get(entry.key);
        this.before.delete(entry.key);
        if (value !== ABSENT) atVersion.push({ key: entry.key, value });
      }
      yield* atVersion;
      if (last) break;
      source.betweenChunks();
    }
    // Keys that existed at the version and were removed before the scan reached them.
    const removed = [...this.before].filter(([, value]) => value !== ABSENT);
    this.before.clear();
    for (const [key, value] of removed) yield { key, value };
  }
}
