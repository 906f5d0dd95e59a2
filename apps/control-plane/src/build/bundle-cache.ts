// A TypeScript entry as one JavaScript file built by esbuild, kept per content hash of exactly the
// files it was built from. Two users: the engine CLI the local runtime starts (tsx compiling it at
// every start cost about 7 s of a local restart under load, issue 20 §5) and the alert evaluation
// worker thread (@swc-node/register loading its TypeScript took 3–17 s, issue 15).
//
//   <dir>/<name>.<entry-key>.inputs.json   the files the entry's last bundle was made of
//   <dir>/<name>.<content-hash>.js          the bundle of those files' contents
//   <dir>/<name>.<content-hash>.js.*        kept beside a bundle by its users (removed with it)
//
// The inputs are esbuild's own list (its metafile), so the hash covers every file that reaches
// the bundle — imported sources in any folder, the libraries, and the dependencies' files in
// node_modules (the kafkajs patch applied by patch-package included) — and nothing else. A start
// hashes the listed files (no build) and reuses the bundle of that hash; a changed, added or
// removed file gives a new build. Several processes may build at once (two control planes, a
// bench): every write is a rename of a complete temporary file, so a reader sees either no file
// or a whole one. Old bundles of a name are pruned, least recently used first.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface BundleRequest {
  /** The .ts entry (absolute, or relative to the working directory). */
  entry: string;
  /** Where bundles and manifests are kept. */
  dir: string;
  /** File-name prefix of the bundle (`<name>.<hash>.js`). */
  name: string;
  /** tsconfig whose path aliases resolve workspace imports (default: esbuild's own lookup). */
  tsconfig?: string;
  /** Modules left to `require` at run time. */
  external?: string[];
  /** Whitespace and comments left out (names kept): less for every start to read. */
  minifyWhitespace?: boolean;
  /** Told before a build starts (it takes from under a second to tens of seconds under load). */
  onBuild?: (file: string) => void;
}

export interface Bundle {
  file: string;
  /** False when an existing bundle of the same content hash was reused. */
  built: boolean;
}

interface Inputs {
  /** Absolute paths of every file the bundle was made of. */
  files: string[];
}

interface Esbuild {
  version: string;
  build(options: Record<string, unknown>): Promise<{
    outputFiles?: Array<{ contents: Uint8Array }>;
    metafile?: { inputs: Record<string, unknown> };
  }>;
}

/** Bundles of one name kept in a folder (other worktrees and older sources share it). */
const KEEP_BUNDLES = 8;
/** A temporary file older than this was left by a builder that died. */
const STALE_TEMP_MS = 10 * 60_000;

/** The hash of the files' paths and contents (and esbuild's version), or null if one is gone. */
function contentHash(files: readonly string[], salt: string): string | null {
  const h = createHash('sha256').update(salt);
  for (const f of [...files].sort()) {
    let content: Buffer;
    try {
      content = fs.readFileSync(f);
    } catch {
      return null;
    }
    h.update(`\0${f}\0${content.length}\0`).update(content);
  }
  return h.digest('hex').slice(0, 16);
}

function writeAtomically(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Marks a bundle used, so that pruning removes the ones nobody starts any more. */
function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // read-only (an image's prebuilt bundle): used as is
  }
}

/** Removes bundles of `name` beyond KEEP_BUNDLES (least recently used first) and dead builders' temp files. */
function prune(dir: string, name: string, keep: string): void {
  const now = Date.now();
  const bundles: Array<{ file: string; mtime: number }> = [];
  const ours = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{16}\\.js$`);
  const entries = fs.readdirSync(dir);
  for (const entry of entries) {
    const file = path.join(dir, entry);
    let mtime: number;
    try {
      mtime = fs.statSync(file).mtimeMs;
    } catch {
      continue; // removed meanwhile by another process
    }
    if (entry.endsWith('.tmp')) {
      if (now - mtime > STALE_TEMP_MS) fs.rmSync(file, { force: true });
    } else if (ours.test(entry) && file !== keep) bundles.push({ file, mtime });
  }
  bundles.sort((a, b) => b.mtime - a.mtime);
  for (const old of bundles.slice(KEEP_BUNDLES - 1)) {
    fs.rmSync(old.file, { force: true });
    // What was kept beside it goes with it (the engine bundle's V8 code caches, `<bundle>.*`).
    const prefix = `${path.basename(old.file)}.`;
    for (const entry of entries)
      if (entry.startsWith(prefix)) fs.rmSync(path.join(dir, entry), { force: true });
  }
}

/**
 * The bundle of `req.entry`, built if no bundle of its current content exists. Throws when
 * esbuild is missing or the build fails (callers fall back to running the TypeScript).
 */
export async function bundleOnce(req: BundleRequest): Promise<Bundle> {
  // Worker threads and `node FILE` both want an absolute path (no dependence on the cwd).
  const dir = path.resolve(req.dir);
  const entry = path.resolve(req.entry);
  const esbuild = (await import('esbuild')) as unknown as Esbuild;
  const options = {
    entryPoints: [entry],
    absWorkingDir: path.dirname(entry),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    ...(req.tsconfig ? { tsconfig: path.resolve(req.tsconfig) } : {}),
    external: req.external ?? [],
    ...(req.minifyWhitespace ? { minifyWhitespace: true } : {}),
    write: false,
    metafile: true,
    // No source map: node reads one only with --enable-source-maps, and inline it would more
    // than double the engine bundle's 4.7 MB that every engine start reads.
    logLevel: 'silent',
  };
  // A change of esbuild or of the options changes the bundle as much as a source does.
  const salt = `${esbuild.version}\0${JSON.stringify(options)}`;
  const entryKey = createHash('sha256').update(entry).digest('hex').slice(0, 12);
  const manifest = path.join(dir, `${req.name}.${entryKey}.inputs.json`);
  try {
    const listed = JSON.parse(fs.readFileSync(manifest, 'utf8')) as Inputs;
    const hash = Array.isArray(listed.files) ? contentHash(listed.files, salt) : null;
    const file = hash && path.join(dir, `${req.name}.${hash}.js`);
    if (file && fs.existsSync(file)) {
      touch(file);
      return { file, built: false };
    }
  } catch {
    // No manifest yet (or unreadable): build.
  }
  req.onBuild?.(path.join(dir, `${req.name}.<hash>.js`));
  const result = await esbuild.build(options);
  const contents = result.outputFiles?.[0]?.contents;
  if (!contents || !result.metafile) throw new Error(`esbuild produced no bundle of ${entry}`);
  const files = Object.keys(result.metafile.inputs).map((f) => path.resolve(options.absWorkingDir, f));
  const hash = contentHash(files, salt);
  if (!hash) throw new Error(`a source file of ${entry} went away during its build`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${req.name}.${hash}.js`);
  writeAtomically(file, contents);
  writeAtomically(manifest, JSON.stringify({ files } satisfies Inputs));
  prune(dir, req.name, file);
  return { file, built: true };
}
