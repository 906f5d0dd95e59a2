// The pure part of the file source (Spark's FileStreamSource): which files of a directory listing
// are new, in which order they are taken, how many go into one batch, and what the source
// remembers afterwards. Nothing here touches the file system; file-reader.ts lists and reads.
//
// A file is identified by its name (as Spark identifies it by path); its size and mtime are kept
// with it so a re-run of the batch reads the same bytes and can tell a file that changed since.

export interface FileRef {
  /** Name inside the source directory (the directory is flat: sub-directories are not read). */
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * What the source has taken so far, carried in every offset log entry of its task (the offset
 * log stands for Spark's source log): the names taken whose mtime is at or after `horizonMs`, and
 * the horizon itself, below which every file counts as old. Spark keeps every seen path in its
 * compacted source log and ignores files older than maxFileAge before the newest one; here the
 * window is SEEN_WINDOW_MS, which bounds the entry's size by the files of that window.
 */
export interface FileCursor {
  horizonMs: number;
  /** [name, mtimeMs] of each file taken in the window, by name. */
  seen: Array<[string, number]>;
}

/** How far out of mtime order a file may arrive and still be picked up (a slow rename, say). */
export const SEEN_WINDOW_MS = 10 * 60_000;

export const EMPTY_CURSOR: FileCursor = { horizonMs: 0, seen: [] };

/**
 * Files a writer has not finished: names starting with `.` or `_` are never read (Spark's rule:
 * hidden and `_temporary`/`_SUCCESS`-style names), so a writer writes under such a name, or
 * elsewhere, and renames the complete file into place (a rename within a file system is atomic).
 */
export function isCandidateName(name: string): boolean {
  return name.length > 0 && !name.startsWith('.') && !name.startsWith('_');
}

/** Oldest first (Spark's latestFirst = false), then by name so equal mtimes have one order. */
export function compareFiles(a: FileRef, b: FileRef): number {
  return a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The files of `listing` the source has not taken, in the order it takes them. */
export function newFiles(listing: readonly FileRef[], cursor: FileCursor): FileRef[] {
  const seen = new Set(cursor.seen.map(([name]) => name));
  return listing
    .filter((f) => isCandidateName(f.name) && !seen.has(f.name) && f.mtimeMs >= cursor.horizonMs)
    .sort(compareFiles);
}

export interface BatchLimits {
  /** Spark's maxFilesPerTrigger; undefined = no cap. */
  maxFiles: number | undefined;
  /**
   * Bytes of file content one batch may hold: files are taken in order until the next would
   * pass it (always at least one, which the reader bounds on its own).
   */
  maxBytes: number;
}

/** The head of `pending` one batch may take under `limits`. */
export function batchFiles(pending: readonly FileRef[], limits: BatchLimits): FileRef[] {
  const out: FileRef[] = [];
  let bytes = 0;
  for (const f of pending) {
    if (limits.maxFiles !== undefined && out.length >= limits.maxFiles) break;
    if (out.length > 0 && bytes + f.size > limits.maxBytes) break;
    out.push(f);
    bytes += f.size;
  }
  return out;
}

/** The cursor once `taken` is taken: the horizon follows the newest mtime, the seen names the window. */
export function advanceCursor(cursor: FileCursor, taken: readonly FileRef[]): FileCursor {
  if (taken.length === 0) return cursor;
  const newest = Math.max(...taken.map((f) => f.mtimeMs));
  const horizonMs = Math.max(cursor.horizonMs, newest - SEEN_WINDOW_MS);
  const seen = new Map(cursor.seen);
  for (const f of taken) seen.set(f.name, f.mtimeMs);
  return {
    horizonMs,
    seen: [...seen]
      .filter(([, mtimeMs]) => mtimeMs >= horizonMs)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}

/** What a file task's offset log entry carries (checkpoint-store OffsetLogEntry.files). */
export interface FileBatch {
  taken: FileRef[];
  cursor: FileCursor;
}

/**
 * The files a planned range [start, end) of a file task takes: the head of `next` (the files the
 * task could take, in order; the planner may have cut the range below their count by the rate
 * limit or the batch bound), and the cursor after them.
 */
export function fileBatchOf(
  range: { start: number; end: number },
  next: readonly FileRef[],
  cursor: FileCursor,
): FileBatch {
  const taken = next.slice(0, Math.max(0, range.end - range.start));
  if (taken.length !== range.end - range.start)
    throw new Error(
      `a file batch of ${range.end - range.start} file(s) planned with ${next.length} available`,
    );
  return { taken, cursor: advanceCursor(cursor, taken) };
}
