// Local-directory blob store. Writes are atomic and durable: temp file + fsync, then rename (or
// link for create-if-absent) + fsync of the directory, so a crash leaves either the old or the
// new content, never a torn file under the final name.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BlobStore } from './blob-store';

const TEMP_PREFIX = '.tmp-';

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

  private async writeTemp(target: string, data: Buffer): Promise<string> {
    const dir = path.dirname(target);
    await fs.mkdir(dir, { recursive: true });
    const temp = path.join(dir, `${TEMP_PREFIX}${path.basename(target)}-${randomBytes(6).toString('hex')}`);
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
      await fs.link(temp, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      // The temporary name is unique to this write; one left behind is garbage, never read.
      await fs.unlink(temp).catch(() => undefined);
    }
    await fsyncDir(path.dirname(target));
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
