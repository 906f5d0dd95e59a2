// A bundle built once per content hash of the files it was made of, again when an imported file
// changes, refused when its entry does not compile, and written whole by concurrent builders; old
// ones pruned with what was kept beside them.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleOnce } from './bundle-cache';

/** What a bundle exports (loaded as a CommonJS module, as a worker thread or `node` loads it). */
const answerOf = (file: string) => (createRequire(__filename)(file) as { answer: number }).answer;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bundle-cache-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('bundleOnce', () => {
  it('builds once per content hash and again when an imported file changes', async () => {
    const src = path.join(tmp, 'src');
    const out = path.join(tmp, 'out');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'answer.ts'), 'export const answer: number = 41;\n');
    fs.writeFileSync(
      path.join(src, 'entry.ts'),
      "import { answer } from './answer';\nmodule.exports = { answer: answer + 1 };\n",
    );
    const entry = path.join(src, 'entry.ts');
    const first = await bundleOnce({ entry, dir: out, name: 'entry' });
    expect(first.built).toBe(true);
    expect(first.file.endsWith('.js')).toBe(true);
    expect(answerOf(first.file)).toBe(42);

    const again = await bundleOnce({ entry, dir: out, name: 'entry' });
    expect(again).toEqual({ file: first.file, built: false });

    fs.writeFileSync(path.join(src, 'answer.ts'), 'export const answer: number = 99;\n');
    const changed = await bundleOnce({ entry, dir: out, name: 'entry' });
    expect(changed.built).toBe(true);
    expect(changed.file).not.toBe(first.file);
    expect(answerOf(changed.file)).toBe(100);
  });

  it('keeps 8 bundles of a name, removing the least recently used with the files kept beside it', async () => {
    const src = path.join(tmp, 'src-prune');
    const out = path.join(tmp, 'out-prune');
    fs.mkdirSync(src);
    const entry = path.join(src, 'entry.ts');
    const files: string[] = [];
    for (let i = 0; i < 9; i++) {
      fs.writeFileSync(entry, `module.exports = { answer: ${i} };\n`);
      const { file } = await bundleOnce({ entry, dir: out, name: 'entry' });
      files.push(file);
      // A user's file beside the bundle (the engine's V8 code cache); oldest first by mtime.
      fs.writeFileSync(`${file}.0123456789ab.v8cache`, 'cache');
      const at = new Date(Date.now() - (10 - i) * 60_000);
      fs.utimesSync(file, at, at);
    }
    const left = fs.readdirSync(out);
    expect(left).not.toContain(path.basename(files[0]!));
    expect(left).not.toContain(`${path.basename(files[0]!)}.0123456789ab.v8cache`);
    for (const file of files.slice(1)) {
      expect(left).toContain(path.basename(file));
      expect(left).toContain(`${path.basename(file)}.0123456789ab.v8cache`);
    }
  });

  it('refuses an entry that does not compile (the thread then falls back to the source)', async () => {
    const entry = path.join(tmp, 'broken.ts');
    fs.writeFileSync(entry, "import { nothing } from './does-not-exist';\nconsole.log(nothing);\n");
    await expect(bundleOnce({ entry, dir: path.join(tmp, 'out-broken'), name: 'broken' })).rejects.toThrow(
      /does-not-exist/,
    );
  });
});
