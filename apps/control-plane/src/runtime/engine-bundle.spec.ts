// The engine bundle built for real with esbuild into a temporary folder: it runs the engine (the
// query test harness, which needs no broker), carries the kafkajs patch, survives concurrent
// builders, runs through its code-cache launcher, and a build that cannot run falls back to tsx.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { engineNodeFlagsOfText, LMDB_ENGINE_NODE_FLAGS } from '@sluice/query-plan';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildEngineBundle,
  bundledEngineCommand,
  EngineCommand,
  engineBundleDir,
  tsxEngineCommand,
} from './engine-bundle';
import { withEngineNodeFlags } from './engine-node-flags';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const dirs: string[] = [];
const tempDir = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-bundle-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * A copy of the bundle in a folder of its own (so the code caches are the test's, inside the
 * repository: lmdb resolves from its node_modules, as from the local runtime's bundle), with the
 * window-count example on the lmdb state store.
 */
async function lmdbExampleCopy(): Promise<{
  node: string;
  launcher: string;
  bundle: string;
  dir: string;
  spec: string;
}> {
  const [node, launcher, shared] = await bundledEngineCommand(ROOT, engineBundleDir(ROOT));
  const dir = fs.mkdtempSync(path.join(ROOT, '.sluice', 'engine-bundle-test-'));
  dirs.push(dir);
  const bundle = path.join(dir, path.basename(shared!));
  fs.copyFileSync(shared!, bundle);
  const example = path.join(ROOT, 'apps/engine/examples/window-count');
  const spec = fs
    .readFileSync(path.join(example, 'spec.yaml'), 'utf8')
    .replace(
      'options: { numShufflePartitions: 1 }',
      'options: { numShufflePartitions: 1, stateStore: lmdb }',
    );
  expect(spec).toContain('stateStore: lmdb');
  fs.writeFileSync(path.join(dir, 'spec.yaml'), spec);
  for (const f of ['input.jsonl', 'expected.jsonl'])
    fs.copyFileSync(path.join(example, f), path.join(dir, f));
  return { node: node!, launcher: launcher!, bundle, dir, spec };
}

describe('engine bundle', () => {
  it('is built once per content hash by concurrent builders, whole, and runs the engine', async () => {
    const dir = tempDir();
    const built = await Promise.all([1, 2, 3].map(() => buildEngineBundle(ROOT, dir)));
    const file = built[0]!;
    expect(path.dirname(file)).toBe(dir);
    expect(path.basename(file)).toMatch(/^engine\.[0-9a-f]{16}\.js$/);
    expect(new Set(built)).toEqual(new Set([file]));
    // No temporary file left: each builder renamed its own into place. One bundle and the list
    // of the files it was made of.
    const left = fs.readdirSync(dir).sort();
    expect(left).toHaveLength(2);
    expect(left).toContain(path.basename(file));
    expect(left.find((f) => f !== path.basename(file))).toMatch(/^engine\.[0-9a-f]{12}\.inputs\.json$/);
    const text = fs.readFileSync(file, 'utf8');
    // patches/kafkajs+2.2.4+001+read-committed-and-member-id.patch: aborted transactions sorted by
    // first offset (bundled from the patched node_modules, so a bundle built before
    // `patch-package` would miss it).
    expect(text).toContain('Long.fromValue(b.firstOffset)');
    const example = path.join(ROOT, 'apps/engine/examples/window-count');
    const run = spawnSync(
      process.execPath,
      [file, 'test', '--spec', 'spec.yaml', '--input', 'input.jsonl', '--expect', 'expected.jsonl'],
      { cwd: example, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stdout + run.stderr).toContain('PASS spec.yaml');
    expect(run.status).toBe(0);
    // Present: returned without a build.
    let rebuilt = false;
    expect(await buildEngineBundle(ROOT, dir, () => (rebuilt = true))).toBe(file);
    expect(rebuilt).toBe(false);
  }, 180_000);

  it('runs a query with the lmdb state store from its real location (lmdb external, loaded at run time)', async () => {
    // Where the local runtime builds it: lmdb resolves from the repository's node_modules.
    const file = await buildEngineBundle(ROOT, engineBundleDir(ROOT));
    const text = fs.readFileSync(file, 'utf8');
    // Loaded when a query asks for it (a dynamic import esbuild leaves to node, launch/dynamic-import.ts).
    expect(text).toMatch(/dynamicImport\d*\("lmdb"\)/);
    // Not bundled: its loader looks for the prebuilt binary next to its own files.
    expect(text).not.toContain('@lmdb/lmdb-');
    // The window-count example (state across "# restart") with options.stateStore: lmdb.
    const example = path.join(ROOT, 'apps/engine/examples/window-count');
    const dir = tempDir();
    const spec = fs.readFileSync(path.join(example, 'spec.yaml'), 'utf8');
    const lmdbSpec = spec.replace(
      'options: { numShufflePartitions: 1 }',
      'options: { numShufflePartitions: 1, stateStore: lmdb }',
    );
    expect(lmdbSpec).not.toBe(spec);
    fs.writeFileSync(path.join(dir, 'spec.yaml'), lmdbSpec);
    for (const f of ['input.jsonl', 'expected.jsonl'])
      fs.copyFileSync(path.join(example, f), path.join(dir, f));
    const run = spawnSync(
      process.execPath,
      [file, 'test', '--spec', 'spec.yaml', '--input', 'input.jsonl', '--expect', 'expected.jsonl'],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stdout + run.stderr).toContain('PASS spec.yaml');
    expect(run.stdout + run.stderr).toContain('restarted from the checkpoint');
    expect(run.status).toBe(0);
  }, 180_000);

  it('runs the bundle through the launcher: writes the code cache, uses it, and ignores a damaged one', async () => {
    // A copy of the bundle in a folder of its own, so the caches are this test's, inside the
    // repository (lmdb resolves from its node_modules, as from the local runtime's bundle).
    // The lmdb state store: the bundle's dynamic import() must work from the launcher's vm.Script.
    const { node, launcher, bundle, dir } = await lmdbExampleCopy();
    const run = () => {
      const r = spawnSync(
        node!,
        [
          launcher!,
          bundle,
          'test',
          '--spec',
          'spec.yaml',
          '--input',
          'input.jsonl',
          '--expect',
          'expected.jsonl',
        ],
        { cwd: dir, encoding: 'utf8', timeout: 60_000 },
      );
      const out = r.stdout + r.stderr;
      expect(out).toContain('PASS spec.yaml');
      expect(out).toContain('restarted from the checkpoint');
      // Node 20's experimental note about the loader the launcher uses stays out of the log.
      expect(out).not.toContain('ExperimentalWarning');
      expect(r.status).toBe(0);
    };
    const caches = () => fs.readdirSync(dir).filter((f) => f.endsWith('.v8cache'));

    run(); // no cache: compiled from source, the cache written at exit
    expect(caches()).toEqual([
      expect.stringMatching(new RegExp(`^${path.basename(bundle)}\\.[0-9a-f]{12}\\.v8cache$`)),
    ]);
    const cache = path.join(dir, caches()[0]!);
    const written = fs.readFileSync(cache);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(cache, old, old);
    const mtime = fs.statSync(cache).mtimeMs;

    run(); // used as it is: not written again
    expect(fs.statSync(cache).mtimeMs).toBe(mtime);
    // A stateful function's TypeScript module: esbuild and the compiled file imported, from the cache.
    const stateful = spawnSync(
      node!,
      [
        launcher!,
        bundle,
        'test',
        '--spec',
        'spec.yaml',
        '--input',
        'input.jsonl',
        '--expect',
        'expected.jsonl',
      ],
      { cwd: path.join(ROOT, 'apps/engine/examples/stateful-sessionize'), encoding: 'utf8', timeout: 60_000 },
    );
    expect(stateful.stdout + stateful.stderr).toContain('PASS spec.yaml');
    expect(stateful.status).toBe(0);

    for (const damaged of [written.subarray(0, written.length >> 1), Buffer.alloc(written.length, 0x5a)]) {
      fs.writeFileSync(cache, damaged);
      run(); // ignored: compiled from source, and a good cache written in its place
      expect(fs.readFileSync(cache).length).toBeGreaterThan(damaged.length >> 1);
      expect(fs.readFileSync(cache).subarray(0, 16).equals(written.subarray(0, 16))).toBe(true);
    }
    expect(caches()).toHaveLength(1);
  }, 180_000);

  it('gives an lmdb engine its node flags on the command line: a code cache of its own, used at the next start, not rewritten', async () => {
    // As the local runtime starts an lmdb query's engine (local-process.runtime.ts commandFor).
    // The flags bound V8's heap growth; set at run time instead, they changed V8's flag hash
    // after the cache was checked, so it was rejected and rewritten at every start (3e72248).
    const { node, launcher, bundle, dir, spec } = await lmdbExampleCopy();
    const flags = engineNodeFlagsOfText(spec);
    expect(flags).toEqual(LMDB_ENGINE_NODE_FLAGS);
    const flagged = await withEngineNodeFlags([node!, launcher!, bundle], flags);
    expect(flagged).toEqual([node, ...LMDB_ENGINE_NODE_FLAGS, launcher, bundle]);
    const run = (command: string[]) => {
      const [program, ...args] = command;
      const r = spawnSync(
        program!,
        [...args, 'test', '--spec', 'spec.yaml', '--input', 'input.jsonl', '--expect', 'expected.jsonl'],
        { cwd: dir, encoding: 'utf8', timeout: 60_000 },
      );
      const out = r.stdout + r.stderr;
      expect(out).toContain('PASS spec.yaml');
      expect(out).toContain('restarted from the checkpoint');
      expect(r.status).toBe(0);
    };
    const caches = () =>
      fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.v8cache'))
        .sort();
    const age = (file: string): number => {
      const old = new Date(Date.now() - 60_000);
      fs.utimesSync(file, old, old);
      return fs.statSync(file).mtimeMs;
    };

    run(flagged); // no cache for these flags: compiled from source, the cache written at exit
    expect(caches()).toHaveLength(1);
    const cache = path.join(dir, caches()[0]!);
    const mtime = age(cache);
    run(flagged); // the same flags: used as it is (V8 accepted it), not written again
    expect(caches()).toEqual([path.basename(cache)]);
    expect(fs.statSync(cache).mtimeMs).toBe(mtime);

    // Without the flags (a memory engine, or a node that refused them): a cache of its own
    // beside it, and neither start disturbs the other's.
    run([node!, launcher!, bundle]);
    expect(caches()).toHaveLength(2);
    const plain = path.join(
      dir,
      caches().find((f) => f !== path.basename(cache))!,
    );
    const plainMtime = age(plain);
    run(flagged);
    run([node!, launcher!, bundle]);
    expect(fs.statSync(cache).mtimeMs).toBe(mtime);
    expect(fs.statSync(plain).mtimeMs).toBe(plainMtime);
  }, 240_000);

  it('falls back to tsx, logged at warn, when the bundle cannot be built', async () => {
    // A root without esbuild (no node_modules): the build cannot start.
    const root = tempDir();
    const logs: Array<[string, string]> = [];
    const command = new EngineCommand(root, path.join(root, 'bundles'), (level, msg) =>
      logs.push([level, msg]),
    );
    expect(await command.resolve()).toEqual(tsxEngineCommand(root));
    expect(logs.some(([level, msg]) => level === 'warn' && msg.includes('build failed'))).toBe(true);
    // Not retried at every start: the next start within the retry delay says nothing new.
    const before = logs.length;
    expect(await command.resolve()).toEqual(tsxEngineCommand(root));
    expect(logs.length).toBe(before);
  });

  it('resolves to node, the launcher and the bundle, sharing one build between concurrent starts', async () => {
    const dir = tempDir();
    const logs: string[] = [];
    const command = new EngineCommand(ROOT, dir, (_level, msg) => logs.push(msg));
    const [a, b] = await Promise.all([command.resolve(), command.resolve()]);
    expect(a).toEqual([
      process.execPath,
      expect.stringMatching(/engine-launcher\.[0-9a-f]{16}\.js$/),
      expect.stringMatching(/engine\.[0-9a-f]{16}\.js$/),
    ]);
    expect(path.dirname(a[1]!)).toBe(dir);
    expect(path.dirname(a[2]!)).toBe(dir);
    expect(b).toEqual(a);
    expect(logs.filter((m) => m.startsWith('engine bundle: building'))).toHaveLength(1);
  }, 180_000);
});
