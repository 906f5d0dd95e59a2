// Loads Prisma's WASM schema engine in Node. The package's entry imports the .wasm file the way a
// bundler would, which Node refuses, so we instantiate it by hand (see DEVELOPERS.md).
import fs from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

type WasmExports = Record<string, unknown>;
type WasmGlue = {
  __wbg_set_wasm(exports: WasmExports): void;
  SchemaEngine: typeof SchemaEngine;
};
// Node has WebAssembly at run time; the ES2022 lib we compile against does not declare it.
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: WasmExports } }>;
    };
  }
).WebAssembly;

// The wasm-bindgen glue is a process-wide singleton: instantiate it once, then create as many
// engines as needed (re-instantiating breaks the glue's closures: "FnOnce called more than once").
let glueReady: Promise<WasmGlue> | undefined;

function loadGlue(): Promise<WasmGlue> {
  glueReady ??= (async () => {
    // The glue reports Rust panics through this global; without it a panic crashes the process
    // instead of rejecting the call.
    const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(message: string): void } };
    g.PRISMA_WASM_PANIC_REGISTRY ??= {
      set_message: (message: string) => {
        process.stderr.write(`prisma schema engine panic: ${message}\n`);
      },
    };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const glue = require('@prisma/schema-engine-wasm/schema_engine_bg') as WasmGlue;
    const pkgDir = path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
    const bytes = fs.readFileSync(path.join(pkgDir, 'schema_engine_bg.wasm'));
    const { instance } = await wasm.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return glueReady;
}

export async function openSchemaEngine(schemaPath: string, connectionString: string): Promise<SchemaEngine> {
  const glue = await loadGlue();
  const factory = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString }));
  const datamodel = fs.readFileSync(schemaPath, 'utf8');
  const quiet = () => undefined;
  return glue.SchemaEngine.new({ datamodels: [[schemaPath, datamodel]] }, quiet, factory);
}
