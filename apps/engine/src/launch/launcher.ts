// `node engine-launcher.<hash>.js <engine bundle> <engine args…>`: runs the engine bundle as
// `node <engine bundle> <engine args…>` would, compiled with V8's code cache beside it
// (code-cache.ts says why and how it is stored). Built by the control plane next to the bundle
// (runtime/engine-bundle.ts). Without a usable cache the bundle is compiled from source, as
// node would, and the cache is written once the engine has committed its first batch.
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import {
  bundleText,
  codeCacheFile,
  decodeCodeCache,
  encodeCodeCache,
  offerCodeCacheSave,
  runtimeTag,
} from './code-cache';
import { offerImporter } from './dynamic-import';

function writeAtomically(file: string, data: Uint8Array): void {
  const tmp = `${file}.${process.pid}-${Math.random().toString(16).slice(2, 10)}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The cache's data, or undefined when there is none or it is damaged (compiled from source then). */
function readCache(file: string): Buffer | undefined {
  try {
    const decoded = decodeCodeCache(fs.readFileSync(file));
    return decoded.ok ? decoded.data : undefined;
  } catch {
    return undefined;
  }
}

function compile(file: string, source: string, cachedData: Buffer | undefined): vm.Script {
  return new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
}

function launch(): void {
  const arg = process.argv[2];
  if (!arg) {
    process.stderr.write('usage: engine-launcher <engine bundle> <engine args…>\n');
    process.exit(2);
  }
  const file = path.resolve(arg);
  const source = bundleText(fs.readFileSync(file));
  const cacheFile = codeCacheFile(
    file,
    runtimeTag({
      node: process.version,
      v8: process.versions.v8,
      arch: process.arch,
      execArgv: process.execArgv,
    }),
  );
  let cached = readCache(cacheFile);
  let script: vm.Script;
  try {
    script = compile(file, source, cached);
  } catch (err) {
    // V8 rejects bad data without throwing; a throw is the source's own error, which compiling
    // without the cache reports exactly as node would.
    if (!cached) throw err;
    cached = undefined;
    script = compile(file, source, undefined);
  }
  if (!cached || script.cachedDataRejected === true) {
    let saved = false;
    const save = (): void => {
      if (saved) return;
      saved = true;
      try {
        writeAtomically(cacheFile, encodeCodeCache(script.createCachedData()));
      } catch {
        // A read-only folder (an image) or a full disk: the next start compiles from source.
      }
    };
    // `run` saves at its first committed batch, and only then: a cache is kept for good once
    // written, and one from a start that failed early would hold little beyond the top level. The
    // other commands (validate, test, compat) save at their exit.
    if (process.argv[3] === 'run') offerCodeCacheSave(save);
    else process.once('exit', save);
  }
  // The bundle's dynamic imports run here (dynamic-import.ts says why), resolved from beside it.
  offerImporter((specifier) => import(specifier));
  // The bundle sees itself as the program, as under `node <bundle>`: argv [node, bundle, args…].
  process.argv.splice(1, 1);
  const mod = new Module(file);
  mod.filename = file;
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
  ) => void;
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
}

launch();
