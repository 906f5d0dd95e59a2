// The engine CLI as one JavaScript file, built with esbuild once per content hash of what goes
// into it, so that an engine start does not compile TypeScript through tsx every time (issue 20
// §5: about 7 s of a local restart under load were tsx's compile). Used by the local runtime, the
// image build, bench:upgrade/bench:recovery and the tests.
//
// The key hashes every input a change of which changes the bundle: the engine's and the libraries'
// sources, tsconfig.base.json (the path aliases), package-lock.json (dependency versions), the
// patch-package patches (kafkajs's is applied to node_modules, which esbuild bundles), esbuild's
// version and the build options. Builders in several processes may race (two control planes,
// a bench): each writes a temporary file and renames it into place, which is atomic, so a
// reader sees either no bundle or a whole one.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The entry point, relative to the repository root. */
export const ENGINE_ENTRY = 'apps/engine/src/cli.ts';

/**
 * pg-native is an optional binding pg loads only when asked for (never by the engine); leaving it
 * external keeps the build from failing where it is not installed.
 */
const BUILD_OPTIONS = [
  '--bundle',
  '--platform=node',
  '--target=node20',
  '--tsconfig=tsconfig.base.json',
  '--external:pg-native',
  '--log-level=warning',
];

/** Inputs of the hash, relative to the root: folders are walked, files read. */
const HASHED_INPUTS = ['apps/engine/src', 'libs', 'tsconfig.base.json', 'package-lock.json', 'patches'];
const HASHED_EXTENSIONS = new Set(['.ts', '.js', '.cjs', '.mjs', '.json', '.patch']);
/** Bundles kept in the folder (other worktrees and older sources share it); oldest used go first. */
const KEEP_BUNDLES = 8;
/** A temporary file older than this was left by a builder that died. */
const STALE_TEMP_MS = 10 * 60_000;
/** Bound of one build: esbuild takes about a second; a loaded machine is much slower. */
const BUILD_TIMEOUT_MS = 180_000;

function esbuildBinary(root: string): string {
  return path.join(root, 'node_modules', '.bin', 'esbuild');
}

function filesUnder(root: string, rel: string, out: string[]): void {
  const abs = path.join(root, rel);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    return; // an optional input (e.g. no patches folder)
  }
  if (stat.isFile()) {
    out.push(rel);
    return;
  }
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) filesUnder(root, child, out);
    else if (entry.isFile() && HASHED_EXTENSIONS.has(path.extname(entry.name))) out.push(child);
  }
}

let esbuildVersion: { root: string; version: string } | undefined;

/** esbuild's version, read from its package.json (the binary's output would cost a process). */
function esbuildVersionOf(root: string): string {
  if (esbuildVersion?.root === root) return esbuildVersion.version;
  let version = 'unknown';
  try {
    const pkg = JSON.parse(
      fs.readFileSync(path.join(root, 'node_modules', 'esbuild', 'package.json'), 'utf8'),
    );
    version = String((pkg as { version?: unknown }).version);
  } catch {
    // not installed: the build fails and says so
  }
  esbuildVersion = { root, version };
  return version;
}

/** Content hash of every input of the bundle (see the header): 16 hex digits. */
export function engineSourcesHash(root: string): string {
  const files: string[] = [];
  for (const input of HASHED_INPUTS) filesUnder(root, input, files);
  files.sort();
  const h = createHash('sha256');
  h.update(`esbuild ${esbuildVersionOf(root)}\n${BUILD_OPTIONS.join(' ')}\n${ENGINE_ENTRY}\n`);
  for (const rel of files) {
    h.update(`${rel}\0`);
    h.update(fs.readFileSync(path.join(root, rel)));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Where bundles are built: the repository's `.sluice/` (shared by every control plane of it). */
export const engineBundleDir = (root: string): string => path.join(root, '.sluice', 'engine-bundle');

export const bundleFileName = (hash: string): string => `engine-${hash}.js`;

/**
 * An engine's program in its command line, bundle or TypeScript, as an extended regular
 * expression (`pgrep -f`): followed by ` run --spec <home>/instances/…` it finds the engines a
 * control plane with that home started.
 */
export const ENGINE_PROGRAM_PATTERN = '(apps/engine/src/cli\\.ts|engine-[0-9a-f]{16}\\.js)';

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 8_000) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Removes bundles beyond KEEP_BUNDLES (least recently used first) and dead builders' temp files. */
function prune(dir: string, keep: string): void {
  const now = Date.now();
  const bundles: Array<{ file: string; mtime: number }> = [];
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    let mtime: number;
    try {
      mtime = fs.statSync(file).mtimeMs;
    } catch {
      continue; // removed meanwhile by another process
    }
    if (name.endsWith('.tmp')) {
      if (now - mtime > STALE_TEMP_MS) fs.rmSync(file, { force: true });
    } else if (/^engine-[0-9a-f]+\.js$/.test(name) && file !== keep) bundles.push({ file, mtime });
  }
  bundles.sort((a, b) => b.mtime - a.mtime);
  for (const old of bundles.slice(KEEP_BUNDLES - 1)) fs.rmSync(old.file, { force: true });
}

/**
 * Builds `dir/engine-<hash>.js` unless it is there, and returns its path. Throws with esbuild's
 * message when the build fails. `onBuild` is told before a build starts (it takes seconds).
 */
export async function buildEngineBundle(
  root: string,
  dir: string,
  onBuild?: (file: string) => void,
): Promise<string> {
  const file = path.join(dir, bundleFileName(engineSourcesHash(root)));
  if (fs.existsSync(file)) {
    // Marks it used, so that pruning removes the bundles nobody starts any more.
    const now = new Date();
    try {
      fs.utimesSync(file, now, now);
    } catch {
      // read-only (an image's prebuilt bundle): used as is
    }
    return file;
  }
  onBuild?.(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const built = await run(esbuildBinary(root), [ENGINE_ENTRY, ...BUILD_OPTIONS, `--outfile=${tmp}`], root);
    if (built.code !== 0) throw new Error(`esbuild exited with ${built.code}: ${built.stderr.trim()}`);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  prune(dir, file);
  return file;
}

export type EngineLog = (level: 'info' | 'warn', msg: string) => void;

/** The tsx command: the engine's TypeScript compiled at start (the fallback). */
export function tsxEngineCommand(root: string): string[] {
  // `--import tsx` rather than the tsx CLI: the CLI is a wrapper process, so the pid we record
  // (and a hard kill) would miss the engine itself.
  return [process.execPath, '--import', 'tsx', path.join(root, ENGINE_ENTRY)];
}

/**
 * The command that starts an engine: node on the bundle of the current sources, built if needed
 * (concurrent callers in this process share one build), or tsx when the build fails (logged at
 * warn; the engine still starts, only slower). Sources edited while the control plane runs give a
 * new hash, hence a new bundle at the next start, as tsx would have compiled them.
 */
export class EngineCommand {
  private building: { hash: string; done: Promise<string[]>; settled: boolean } | undefined;
  private failedHash: string | undefined;

  constructor(
    private readonly root: string,
    private readonly dir: string,
    private readonly log: EngineLog,
  ) {}

  async resolve(): Promise<string[]> {
    let hash: string;
    try {
      hash = engineSourcesHash(this.root);
    } catch (e) {
      this.log(
        'warn',
        `engine bundle: could not hash the sources (${(e as Error).message}); starting through tsx`,
      );
      return tsxEngineCommand(this.root);
    }
    // A failed build is not retried for the same sources until the process restarts (each retry
    // would cost every start the build's time); edited sources try again. A bundle removed from
    // the folder meanwhile (pruned by another worktree's builder) is built again.
    const current = this.building;
    if (
      current?.hash === hash &&
      (!current.settled ||
        this.failedHash === hash ||
        fs.existsSync(path.join(this.dir, bundleFileName(hash))))
    )
      return current.done;
    const next = { hash, done: this.build(hash), settled: false };
    void next.done.finally(() => (next.settled = true));
    this.building = next;
    return next.done;
  }

  private async build(hash: string): Promise<string[]> {
    const started = Date.now();
    let building = false;
    try {
      const file = await buildEngineBundle(this.root, this.dir, (f) => {
        building = true;
        this.log('info', `engine bundle: building ${f}`);
      });
      if (building) this.log('info', `engine bundle: built in ${Date.now() - started} ms`);
      return [process.execPath, file];
    } catch (e) {
      this.failedHash = hash;
      this.log('warn', `engine bundle: build failed, starting engines through tsx: ${(e as Error).message}`);
      return tsxEngineCommand(this.root);
    }
  }
}
