// The engine's dynamic import() of what is not bundled (lmdb, esbuild, a stateful function's
// compiled module). Under the code-cache launcher (launcher.ts) the import runs in the launcher's
// own module: on Node 20 a function V8 restored from a code cache has lost its script's dynamic
// import callback (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so the bundle's own import() would
// fail once a cache is used. The launcher lies beside the bundle, so a bare name resolves from the
// same node_modules. Under tsx, or node on the bundle alone, the module's own import() runs.
const IMPORT = Symbol.for('sluice.engine.import');

type Importer = (specifier: string) => Promise<unknown>;
type Holder = { [IMPORT]?: Importer };

/** The launcher: imports run through `importer` from now on. */
export function offerImporter(importer: Importer): void {
  (globalThis as Holder)[IMPORT] = importer;
}

/** `import(specifier)`, through the launcher's importer when there is one. */
export function dynamicImport<T = Record<string, unknown>>(specifier: string): Promise<T> {
  const importer = (globalThis as Holder)[IMPORT];
  return (importer ? importer(specifier) : import(specifier)) as Promise<T>;
}
