// The file source's I/O: lists a source directory (regular files only) and turns a batch's files
// into source records, one per non-empty line. Every bound is enforced here so a bad file costs a
// dead letter, never the engine: a file over MAX_FILE_BYTES becomes one refused record naming it,
// a line over MAX_LINE_BYTES a refused record of its own.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SourceRecord } from './group-reader';
import type { FileRef } from './file-selection';

/** A file the source reads whole into memory; larger ones are refused (a dead letter). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** A longer line is refused on its own (the rest of its file is read). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Bytes of files one batch takes (file-selection.batchFiles). */
export const MAX_BATCH_BYTES = 256 * 1024 * 1024;
/** Entries of a directory listed per trigger; more is an error (a runaway directory). */
export const MAX_LISTED_FILES = 100_000;

/** A file a planned batch took is gone or shorter than it was: its batch cannot be read again. */
export class FileChangedError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`file source: ${file} ${reason}`);
    this.name = 'FileChangedError';
  }
}

/**
 * Regular files of `dir` with their size and mtime. Symbolic links and sub-directories are not
 * files of the source (a link could lead outside the file root).
 */
export async function listFiles(dir: string): Promise<FileRef[]> {
  const out: FileRef[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true });
  if (entries.length > MAX_LISTED_FILES)
    throw new Error(
      `file source ${dir} holds ${entries.length} entries, over ${MAX_LISTED_FILES}: move read files away`,
    );
  for (const e of entries) {
    if (!e.isFile()) continue;
    // Gone between readdir and stat: not there, as if listed a moment later.
    const st = await fs.lstat(path.join(dir, e.name)).catch(() => undefined);
    if (st?.isFile()) out.push({ name: e.name, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
  }
  return out;
}

/**
 * The records of `file` (at position `seq` of the source's taken files): its first `file.size`
 * bytes (what the batch planned: bytes appended since are not part of it), split into lines.
 */
export async function readFileRecords(
  dir: string,
  file: FileRef,
  topic: string,
  seq: number,
): Promise<SourceRecord[]> {
  const where = (line?: number) => ({
    file: file.name,
    ...(line !== undefined ? { line: String(line) } : {}),
  });
  const record = (value: Buffer | null, line: number | undefined, refused?: string): SourceRecord => ({
    topic,
    partition: 0,
    offset: seq,
    key: Buffer.from(line === undefined ? file.name : `${file.name}:${line}`),
    value,
    timestampMs: file.mtimeMs,
    headers: where(line),
    ...(refused ? { refused } : {}),
  });
  if (file.size > MAX_FILE_BYTES)
    return [
      record(
        null,
        undefined,
        `file ${file.name} is ${file.size} bytes, over the file source's bound of ${MAX_FILE_BYTES}`,
      ),
    ];
  let data: Buffer;
  try {
    const handle = await fs.open(path.join(dir, file.name), 'r');
    try {
      data = Buffer.alloc(file.size);
      const { bytesRead } = await handle.read(data, 0, file.size, 0);
      if (bytesRead < file.size)
        throw new FileChangedError(file.name, `is now shorter than the ${file.size} bytes its batch planned`);
    } finally {
      await handle.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new FileChangedError(file.name, 'vanished after its batch was planned');
    throw e;
  }
  const out: SourceRecord[] = [];
  let start = 0;
  let line = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    line++;
    // CRLF files read as LF; blank lines are no records (Spark's JSON-lines reader skips them).
    const stop = end > start && data[end - 1] === 0x0d ? end - 1 : end;
    if (stop - start > MAX_LINE_BYTES)
      out.push(
        record(
          data.subarray(start, start + 1024),
          line,
          `line ${line} of ${file.name} is ${stop - start} bytes, over the bound of ${MAX_LINE_BYTES}`,
        ),
      );
    else if (stop > start) out.push(record(data.subarray(start, stop), line));
    start = end + 1;
  }
  return out;
}
