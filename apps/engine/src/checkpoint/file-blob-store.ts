// Local-directory blob store. Writes are atomic and durable: temp file + fsync, then rename (or
// link for create-if-absent) + fsync of the directory, so a crash leaves either the old or the
// new content, never a torn file under the final name.
//
// Small blobs (the offset log, the commit log: a few hundred bytes, written by every task of every
// trigger) make their metadata calls synchronously and only their two fsyncs on libuv's pool: each
// awaited fs call is a turn of the event loop, and a batch's WAL entry is written while the other
// tasks' batches keep the loop busy, so ten awaited calls cost ten waits for the loop (BENCHMARKS.md,
// 2026-12-03 16:00: 4 concurrent WAL writes under a busy loop 36-38 ms with ten, 18-20 ms with six).
// open(O_EXCL)/write of a few hundred bytes/close/link/rename/unlink are microseconds in the page
// cache; the order of the steps, and so the crash guarantees, is unchanged.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsync as fsyncCallback,
  linkSync,
  mkdirSync,
  openSync,
  promises as fs,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BlobStore } from './blob-store';

const TEMP_PREFIX = '.tmp-';
/** Blobs up to this size are written with synchronous calls (above: a state file, written async). */
const SMALL_BLOB_BYTES = 64 * 1024;

const fsyncFd = promisify(fsyncCallback);

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncDir with the open and close made synchronously: one turn of the event loop. */
async function fsyncDirLean(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

const tempName = (target: string): string =>
  path.join(path.dirname(target), `${TEMP_PREFIX}${path.basename(target)}-${randomBytes(6).toString('hex')}`);

export class FileBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  private resolve(relative: string): string {
    const parts = relative.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..'))
      throw new Error(`invalid checkpoint path "${relative}"`);
    return path.join(this.root, ...parts);
  }

  describe(relative: string): string {
    return this.resolve(relative);
  }

  /** Directories this store has created or found (mkdir is skipped for them). */
  private readonly dirs = new Set<string>();

  private ensureDirSync(dir: string): void {
    if (this.dirs.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.dirs.add(dir);
  }

  private async writeTemp(target: string, data: Buffer): Promise<string> {
    const dir = path.dirname(target);
    const temp = tempName(target);
    if (data.length <= SMALL_BLOB_BYTES) {
      this.ensureDirSync(dir);
      let fd: number;
      try {
        fd = openSync(temp, 'wx');
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The directory was removed since this store saw it (a checkpoint deleted under it).
        this.dirs.delete(dir);
        this.ensureDirSync(dir);
        fd = openSync(temp, 'wx');
      }
      try {
        for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
        await fsyncFd(fd);
      } finally {
        closeSync(fd);
      }
      return temp;
    }
    await fs.mkdir(dir, { recursive: true });
    this.dirs.add(dir);
    const handle = await fs.open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  }

  async put(relative: string, data: Buffer): Promise<void> {
    const target = this.resolve(relative);
    const temp = await this.writeTemp(target, data);
    if (data.length <= SMALL_BLOB_BYTES) {
      renameSync(temp, target);
      await fsyncDirLean(path.dirname(target));
      return;
    }
    await fs.rename(temp, target);
    await fsyncDir(path.dirname(target));
  }

  async putStreamed(
    relative: string,
    chunks: AsyncIterable<Buffer>,
    reserved: number,
    header: () => Buffer,
  ): Promise<void> {
    const target = this.resolve(relative);
    const dir = path.dirname(target);
    await fs.mkdir(dir, { recursive: true });
    const temp = path.join(dir, `${TEMP_PREFIX}${path.basename(target)}-${randomBytes(6).toString('hex')}`);
    const handle = await fs.open(temp, 'wx');
    try {
      let position = reserved;
      for await (const chunk of chunks) {
        await handle.write(chunk, 0, chunk.length, position);
        position += chunk.length;
      }
      const head = header();
      if (head.length !== reserved)
        throw new Error(`header of ${head.length} bytes for a slot of ${reserved}`);
      await handle.write(head, 0, head.length, 0);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await fs.rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    await fs.rename(temp, target);
    await fsyncDir(dir);
  }

  async getStream(relative: string): Promise<AsyncIterable<Buffer> | undefined> {
    const file = this.resolve(relative);
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    // Opened before returning, so a file deleted afterwards is still read whole (POSIX).
    return handle.createReadStream({ highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
  }

  async putIfAbsent(relative: string, data: Buffer): Promise<boolean> {
    const target = this.resolve(relative);
    const temp = await this.writeTemp(target, data);
    try {
      // link(2) fails with EEXIST instead of replacing: an atomic create-exclusive of full content.
      linkSync(temp, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      // The temporary name is unique to this write; one left behind is garbage, never read.
      try {
        unlinkSync(temp);
      } catch {
        // left behind: listed by nobody (TEMP_PREFIX)
      }
    }
    await fsyncDirLean(path.dirname(target));
    return true;
  }

  async get(relative: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.resolve(relative));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async entries(dir: string): Promise<import('node:fs').Dirent[]> {
    try {
      return await fs.readdir(dir === '' ? this.root : this.resolve(dir), { withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  async list(dir: string): Promise<string[]> {
    return (await this.entries(dir))
      .filter((e) => e.isFile() && !e.name.startsWith(TEMP_PREFIX))
      .map((e) => e.name);
  }

  async listDirs(dir: string): Promise<string[]> {
    return (await this.entries(dir)).filter((e) => e.isDirectory()).map((e) => e.name);
  }

  async delete(paths: string[]): Promise<void> {
    await Promise.all(paths.map((p) => fs.rm(this.resolve(p), { force: true })));
  }

  async close(): Promise<void> {}
}
