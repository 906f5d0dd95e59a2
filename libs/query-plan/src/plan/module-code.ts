// A stateful function's code (TypeScript or JavaScript) compiled into one self-contained ES module
// for plain Node, by esbuild. One function for both callers, so that what the control plane
// accepts at create time is exactly what the engine will run: the control plane checks it (a
// syntax error or a missing export is a 422 naming `stateful.source`, not a crash-looping
// engine), the engine runs its output (the engine bundle is plain Node 20, which cannot import
// TypeScript).
//
// esbuild is passed in rather than imported: this library is also compiled into the dashboard,
// which must not pull a native build tool into its bundle.
import { STATEFUL_MODULE_EXTENSIONS } from './stateful-function';

/** The part of esbuild's API used here (structural, so the library needs no dependency on it). */
export interface ModuleBundler {
  build(options: {
    stdin: { contents: string; loader: 'ts' | 'js'; sourcefile: string; resolveDir?: string };
    bundle: true;
    write: false;
    metafile: true;
    format: 'esm';
    platform: 'node';
    target: string;
    outfile: string;
    logLevel: 'silent';
  }): Promise<{
    outputFiles?: Array<{ path: string; text: string }>;
    metafile?: { outputs: Record<string, { exports?: string[] }> };
  }>;
}

export type ModuleCodeResult =
  { ok: true; code: string; exports: string[] } | { ok: false; errors: string[] };

/** esbuild's failure: its messages, with a position inside the module. */
interface BuildFailure {
  errors?: Array<{ text: string; location?: { line: number; column: number } | null }>;
  message?: string;
}

/**
 * Compiles `source` (named `modulePath`; its extension says TypeScript or JavaScript) into one ES
 * module. Without `resolveDir` (inline code from a spec) the module must be a single file: an
 * import of anything but a Node built-in (`node:…`) is an error, since nothing else travels with
 * the spec. With it (a module file run by hand), its relative imports are bundled in.
 */
export async function compileModuleCode(
  bundler: ModuleBundler,
  source: string,
  modulePath: string,
  exportName: string,
  resolveDir?: string,
): Promise<ModuleCodeResult> {
  if (!STATEFUL_MODULE_EXTENSIONS.some((ext) => modulePath.endsWith(ext)))
    return { ok: false, errors: [`module must name a ${STATEFUL_MODULE_EXTENSIONS.join(', ')} file`] };
  const loader = modulePath.endsWith('.ts') || modulePath.endsWith('.mts') ? 'ts' : 'js';
  let result: Awaited<ReturnType<ModuleBundler['build']>>;
  try {
    result = await bundler.build({
      stdin: { contents: source, loader, sourcefile: modulePath, ...(resolveDir ? { resolveDir } : {}) },
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile: 'stateful-module.mjs',
      logLevel: 'silent',
    });
  } catch (err) {
    const failure = err as BuildFailure;
    const hint =
      resolveDir === undefined ? ' (inline code is one file: only Node built-ins can be imported)' : '';
    const errors = (failure.errors ?? []).map((e) => {
      const text = e.text.startsWith('Could not resolve') ? e.text + hint : e.text;
      return e.location ? `${e.location.line}:${e.location.column + 1} ${text}` : text;
    });
    return { ok: false, errors: errors.length > 0 ? errors : [failure.message ?? String(err)] };
  }
  const code = result.outputFiles?.find((f) => f.path.endsWith('.mjs'))?.text;
  const exports = Object.values(result.metafile?.outputs ?? {}).flatMap((o) => o.exports ?? []);
  if (code === undefined) return { ok: false, errors: ['esbuild produced no module'] };
  if (!exports.includes(exportName))
    return {
      ok: false,
      errors: [
        `the module has no export "${exportName}" (it exports ${exports.length > 0 ? exports.join(', ') : 'nothing'})`,
      ],
    };
  return { ok: true, code, exports };
}
