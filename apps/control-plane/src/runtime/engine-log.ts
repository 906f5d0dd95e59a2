// The local runtime's engine logs: `engine.log` plus rotated `engine.log.1` … `engine.log.<N-1>`
// in the instance folder. A restart rotates instead of deleting, so the log of the run that
// crashed is still there to read after the next one started; a log that grows past its bound
// while the engine runs is copied aside and truncated in place (the engine keeps its O_APPEND
// descriptor, so its next write lands at the start of the emptied file).
import fs from 'node:fs';

/** engine.log and the 4 before it. */
export const ENGINE_LOG_FILES = 5;
/** Per file; a chatty engine keeps at most ENGINE_LOG_FILES × this on disk. */
export const ENGINE_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** How much of the end of a log is read to find why the engine exited. */
export const CRASH_TAIL_BYTES = 64 * 1024;

const rotated = (base: string, n: number): string => `${base}.${n}`;

/** `base` and its rotated files that exist, newest first. */
export function logFiles(base: string, files = ENGINE_LOG_FILES): string[] {
  return [base, ...Array.from({ length: files - 1 }, (_, i) => rotated(base, i + 1))].filter((f) =>
    fs.existsSync(f),
  );
}

/** Moves base.1 → base.2 … making room for a new base.1; the oldest beyond `files` goes. */
function shiftRotated(base: string, files: number): void {
  fs.rmSync(rotated(base, files - 1), { force: true });
  for (let n = files - 2; n >= 1; n--) {
    if (fs.existsSync(rotated(base, n))) fs.renameSync(rotated(base, n), rotated(base, n + 1));
  }
}

/** Before a new run: the previous run's log becomes base.1 (and so on down the line). */
export function rotateLog(base: string, files = ENGINE_LOG_FILES): void {
  if (!fs.existsSync(base)) return;
  if (files <= 1) {
    fs.rmSync(base, { force: true });
    return;
  }
  shiftRotated(base, files);
  fs.renameSync(base, rotated(base, 1));
}

/**
 * Bounds a log that a running engine writes: past `maxBytes` it is copied to base.1 and
 * truncated in place. Lines written between the last copy and the truncation (microseconds)
 * are lost, the price of rotating a file whose writer cannot be told to reopen it (logrotate's
 * copytruncate); the engine writes through a descriptor the control plane cannot swap.
 */
export function capLog(base: string, maxBytes = ENGINE_LOG_MAX_BYTES, files = ENGINE_LOG_FILES): boolean {
  let size: number;
  try {
    size = fs.statSync(base).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  if (files <= 1) {
    fs.truncateSync(base, 0);
    return true;
  }
  shiftRotated(base, files);
  const copy = rotated(base, 1);
  fs.copyFileSync(base, copy);
  // Whatever the engine appended while we copied goes to the copy too.
  const copied = fs.statSync(copy).size;
  const now = fs.statSync(base).size;
  if (now > copied) {
    const fd = fs.openSync(base, 'r');
    try {
      const rest = Buffer.alloc(now - copied);
      fs.readSync(fd, rest, 0, rest.length, copied);
      fs.appendFileSync(copy, rest);
    } finally {
      fs.closeSync(fd);
    }
  }
  fs.truncateSync(base, 0);
  return true;
}

/** The last `bytes` of a file as text ('' when it does not exist). */
export function readTail(file: string, bytes = CRASH_TAIL_BYTES): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    const text = buf.toString('utf8');
    // Drop a partial first line when the tail starts mid-file.
    return length < size ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    fs.closeSync(fd);
  }
}
