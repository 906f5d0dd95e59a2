// Loads the function of a plan's stateful operator. Its code is either inline in the spec
// (`stateful.source`: how the control plane ships it) or a file: the module path (already
// normalised and checked by the compiler) is resolved against the spec file's folder, both
// through realpath, so a symlink cannot lead out of the folder either. A `.js`/`.mjs` file is
// imported as is; TypeScript (and inline code) is compiled by esbuild (compileModuleCode, the
// control plane's check) into one ES module, since the engine bundle is plain Node 20.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  compileModuleCode,
  normaliseModulePath,
  type LogicalPlan,
  type ModuleBundler,
  type StatefulFunction,
  type StatefulFunctionOperator,
} from '@sluice/query-plan';
import { dynamicImport } from '../launch/dynamic-import';

export async function loadStatefulFunction(
  plan: LogicalPlan,
  specFile: string,
  inlineSource?: string,
): Promise<StatefulFunction | undefined> {
  const op = plan.operators.find((o): o is StatefulFunctionOperator => o.op === 'stateful');
  if (!op) return undefined;
  const checked = normaliseModulePath(op.module);
  if (!checked.ok) throw new Error(`stateful.module "${op.module}" ${checked.reason}`);
  const module =
    inlineSource !== undefined
      ? await importCompiled(inlineSource, checked.path, op, undefined, 'stateful.source')
      : await importFile(checked.path, op, specFile);
  const fn = module[op.export];
  if (typeof fn !== 'function')
    throw new Error(`stateful.module "${op.module}" has no exported function "${op.export}"`);
  return fn as StatefulFunction;
}

async function importFile(
  relative: string,
  op: StatefulFunctionOperator,
  specFile: string,
): Promise<Record<string, unknown>> {
  const folder = await fs.realpath(path.dirname(path.resolve(specFile)));
  let file: string;
  try {
    file = await fs.realpath(path.join(folder, relative));
  } catch {
    throw new Error(`stateful.module "${op.module}": no such file in ${folder}`);
  }
  if (!file.startsWith(folder + path.sep))
    throw new Error(
      `stateful.module "${op.module}" resolves to ${file}, outside the spec's folder ${folder}`,
    );
  if (file.endsWith('.ts') || file.endsWith('.mts')) {
    // Compiled here rather than imported: under tsx an import would work, from the bundle not.
    const source = await fs.readFile(file, 'utf8');
    return importCompiled(source, relative, op, path.dirname(file), 'stateful.module');
  }
  try {
    return await dynamicImport(pathToFileURL(file).href);
  } catch (err) {
    throw new Error(`stateful.module "${op.module}" could not be loaded: ${(err as Error).message}`);
  }
}

async function importCompiled(
  source: string,
  relative: string,
  op: StatefulFunctionOperator,
  resolveDir: string | undefined,
  field: string,
): Promise<Record<string, unknown>> {
  // esbuild is required at run time (external in the engine bundle, engine-bundle.ts) and only by
  // a query that needs it.
  const esbuild = await dynamicImport<ModuleBundler>('esbuild');
  const compiled = await compileModuleCode(esbuild, source, relative, op.export, resolveDir);
  if (!compiled.ok)
    throw new Error(`${field} (${op.module}) does not compile: ${compiled.errors.join('; ')}`);
  // Content-addressed, written once (temp + rename): instances of a query share the file, and a
  // changed module is a new file. The compiled module imports only Node built-ins, so where it
  // lives does not matter for resolution.
  const dir = path.join(tmpdir(), 'sluice-stateful-modules');
  await fs.mkdir(dir, { recursive: true });
  const digest = createHash('sha256').update(compiled.code).digest('hex');
  const file = path.join(dir, `${digest}.mjs`);
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, compiled.code);
  await fs.rename(temp, file);
  try {
    return await dynamicImport(pathToFileURL(file).href);
  } catch (err) {
    throw new Error(`${field} (${op.module}) could not be loaded: ${(err as Error).message}`);
  }
}
