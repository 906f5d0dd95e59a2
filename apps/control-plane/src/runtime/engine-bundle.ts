// The engine CLI as one JavaScript file, so that an engine start does not compile TypeScript
// through tsx every time (issue 20 §5: about 7 s of a local restart under load were tsx's
// compile). Built and cached per content hash by build/bundle-cache.ts (which also says how
// concurrent builders stay safe); used by the local runtime, the image build,
// bench:upgrade/bench:recovery and the tests.
import path from 'node:path';
import { bundleOnce } from '../build/bundle-cache';

/** The entry point, relative to the repository root. */
export const ENGINE_ENTRY = 'apps/engine/src/cli.ts';

/** Where bundles are built: the repository's `.sluice/` (shared by every control plane of it). */
export const engineBundleDir = (root: string): string => path.join(root, '.sluice', 'engine-bundle');

/**
 * An engine's program in its command line, bundle or TypeScript, as an extended regular
 * expression (`pgrep -f`): followed by ` run --spec <home>/instances/…` it finds the engines a
 * control plane with that home started.
 */
export const ENGINE_PROGRAM_PATTERN = '(apps/engine/src/cli\\.ts|engine\\.[0-9a-f]{16}\\.js)';

/**
 * `dir/engine.<hash>.js` of the current sources, built unless it is there; throws with esbuild's
 * message when the build fails. `onBuild` is told before a build starts (it takes seconds).
 */
export async function buildEngineBundle(
  root: string,
  dir: string,
  onBuild?: (file: string) => void,
): Promise<string> {
  const bundle = await bundleOnce({
    entry: path.join(root, ENGINE_ENTRY),
    dir,
    name: 'engine',
    // The path aliases of the workspace libraries.
    tsconfig: path.join(root, 'tsconfig.base.json'),
    // pg-native is an optional binding pg loads only when asked for (never by the engine);
    // leaving it external keeps the build from failing where it is not installed. lmdb (the
    // `lmdb` state store) is native: its loader finds the prebuilt binary beside its own files,
    // so it is required at run time from the bundle's location (<root>/.sluice/engine-bundle →
    // <root>/node_modules; /app/dist → /app/node_modules in the image), and only by an engine
    // whose query asks for it. esbuild (which compiles a stateful function's code,
    // exec/stateful-module.ts) is native too, and loaded the same way.
    external: ['pg-native', 'lmdb', 'esbuild'],
    // 4.7 MB instead of 6.9 MB, and plain ASCII (the comments had the only other characters), which
    // the launcher decodes faster: 0.26 → 0.21 s of a cached start at load 3 (BENCHMARKS.md).
    minifyWhitespace: true,
    ...(onBuild ? { onBuild } : {}),
  });
  return bundle.file;
}

/** The launcher that runs the bundle with V8's code cache (apps/engine/src/launch/launcher.ts). */
export const ENGINE_LAUNCHER_ENTRY = 'apps/engine/src/launch/launcher.ts';

/** `dir/engine-launcher.<hash>.js`, built like the bundle (a few kB, no dependencies). */
export async function buildEngineLauncher(root: string, dir: string): Promise<string> {
  const bundle = await bundleOnce({
    entry: path.join(root, ENGINE_LAUNCHER_ENTRY),
    dir,
    name: 'engine-launcher',
  });
  return bundle.file;
}

/**
 * node, the launcher, the engine bundle: the bundle compiled with the code cache of its earlier
 * starts (half of node's start and the bundle's load went to compiling it, issue 20 §5).
 */
export async function bundledEngineCommand(
  root: string,
  dir: string,
  onBuild?: (file: string) => void,
): Promise<string[]> {
  const [launcher, bundle] = await Promise.all([
    buildEngineLauncher(root, dir),
    buildEngineBundle(root, dir, onBuild),
  ]);
  return [process.execPath, launcher, bundle];
}

export type EngineLog = (level: 'info' | 'warn', msg: string) => void;

/** The tsx command: the engine's TypeScript compiled at start (the fallback). */
export function tsxEngineCommand(root: string): string[] {
  // `--import tsx` rather than the tsx CLI: the CLI is a wrapper process, so the pid we record
  // (and a hard kill) would miss the engine itself.
  return [process.execPath, '--import', 'tsx', path.join(root, ENGINE_ENTRY)];
}

/** After a failed build, engines start through tsx for this long before a build is tried again. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/**
 * The command that starts an engine: node on the bundle of the current sources through the
 * code-cache launcher (bundledEngineCommand), built if needed
 * (concurrent callers in this process share one build), or tsx when the build fails (logged at
 * warn; the engine still starts, only slower). Sources edited while the control plane runs give a
 * new content hash, hence a new bundle at the next start, as tsx would have compiled them.
 */
export class EngineCommand {
  private inFlight: Promise<string[]> | undefined;
  private failedAt = -Infinity;

  constructor(
    private readonly root: string,
    private readonly dir: string,
    private readonly log: EngineLog,
    private readonly now: () => number = Date.now,
  ) {}

  resolve(): Promise<string[]> {
    // A failed build is not retried at every start (each retry would cost every start the
    // build's time, and say the same thing again).
    if (this.now() - this.failedAt < RETRY_AFTER_FAILURE_MS)
      return Promise.resolve(tsxEngineCommand(this.root));
    this.inFlight ??= this.build().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async build(): Promise<string[]> {
    const started = this.now();
    let building = false;
    try {
      const command = await bundledEngineCommand(this.root, this.dir, (f) => {
        building = true;
        this.log('info', `engine bundle: building ${f}`);
      });
      if (building) this.log('info', `engine bundle: built in ${this.now() - started} ms`);
      return command;
    } catch (e) {
      this.failedAt = this.now();
      this.log('warn', `engine bundle: build failed, starting engines through tsx: ${(e as Error).message}`);
      return tsxEngineCommand(this.root);
    }
  }
}
