// A worker thread's TypeScript entry as one prebuilt JavaScript file. Run from source (tests,
// `npm run`), a worker loading its TypeScript through @swc-node/register took 3 s on an idle box
// and 12–17 s at load 45–60 before it could evaluate (BENCHMARKS.md, issue 15): a new leader's
// first evaluation waited that long. esbuild bundles the entry and everything it imports (the
// workspace libraries included) in well under a second, and the bundle is kept per content hash:
//
//   <dir>/<name>.<entry-hash>.inputs.json   the files the last bundle of this entry was made of
//   <dir>/<name>.<content-hash>.js          the bundle of those files' contents
//
// A start hashes the listed files (no build) and reuses the bundle of that hash; a build happens
// only when a file changed, was added (a changed file changes its imports, so the list follows)
// or is gone. Several processes may build at once: every write is a rename of a complete file.
// esbuild is a development tool (a dependency of the test tooling, not of the control plane): a
// compiled control plane runs its .js worker directly, and without esbuild the caller falls back
// to the TypeScript entry.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

interface Inputs {
  /** Absolute paths of every source file of the bundle. */
  files: string[];
}

interface Esbuild {
  version: string;
  build(options: Record<string, unknown>): Promise<{
    outputFiles?: Array<{ contents: Uint8Array }>;
    metafile?: { inputs: Record<string, unknown> };
  }>;
}

/** The hash of the files' paths and contents (and esbuild's version), or null if one is gone. */
function contentHash(files: readonly string[], esbuildVersion: string): string | null {
  const h = createHash('sha256').update(esbuildVersion);
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
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export interface Bundle {
  file: string;
  /** False when an existing bundle of the same content hash was reused. */
  built: boolean;
}

/**
 * The bundle of `entry` (a .ts file) in `dir`, built if no bundle of its current content exists.
 * Throws when esbuild is missing or the build fails (the caller falls back to the source).
 */
export async function workerBundle(entry: string, bundleDir: string): Promise<Bundle> {
  // Worker threads take an absolute path (a relative one would also depend on the cwd).
  const dir = path.resolve(bundleDir);
  const esbuild = (await import('esbuild')) as unknown as Esbuild;
  const name = path.basename(entry, path.extname(entry));
  const entryKey = createHash('sha256').update(path.resolve(entry)).digest('hex').slice(0, 12);
  const manifest = path.join(dir, `${name}.${entryKey}.inputs.json`);
  try {
    const listed = JSON.parse(fs.readFileSync(manifest, 'utf8')) as Inputs;
    const hash = Array.isArray(listed.files) ? contentHash(listed.files, esbuild.version) : null;
    const file = hash && path.join(dir, `${name}.${hash}.js`);
    if (file && fs.existsSync(file)) return { file, built: false };
  } catch {
    // No manifest yet (or unreadable): build.
  }
  const absWorkingDir = path.dirname(entry);
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    write: false,
    metafile: true,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const contents = result.outputFiles?.[0]?.contents;
  if (!contents || !result.metafile) throw new Error(`esbuild produced no bundle of ${entry}`);
  const files = Object.keys(result.metafile.inputs).map((f) => path.resolve(absWorkingDir, f));
  const hash = contentHash(files, esbuild.version);
  if (!hash) throw new Error(`a source file of ${entry} went away during its build`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.${hash}.js`);
  writeAtomically(file, contents);
  writeAtomically(manifest, JSON.stringify({ files } satisfies Inputs));
  return { file, built: true };
}
