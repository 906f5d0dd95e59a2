// Loads the function of a plan's stateful operator: the module path (already normalised and
// checked by the compiler) is resolved against the spec file's folder, both through realpath, so
// a symlink cannot lead out of the folder either; then imported at run time (a dynamic import:
// under tsx a .ts module loads as is; the engine bundle, plain Node, loads .js/.mjs modules).
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  normaliseModulePath,
  type LogicalPlan,
  type StatefulFunction,
  type StatefulFunctionOperator,
} from '@sluice/query-plan';

export async function loadStatefulFunction(
  plan: LogicalPlan,
  specFile: string,
): Promise<StatefulFunction | undefined> {
  const op = plan.operators.find((o): o is StatefulFunctionOperator => o.op === 'stateful');
  if (!op) return undefined;
  const checked = normaliseModulePath(op.module);
  if (!checked.ok) throw new Error(`stateful.module "${op.module}" ${checked.reason}`);
  const folder = await fs.realpath(path.dirname(path.resolve(specFile)));
  let file: string;
  try {
    file = await fs.realpath(path.join(folder, checked.path));
  } catch {
    throw new Error(`stateful.module "${op.module}": no such file in ${folder}`);
  }
  if (!file.startsWith(folder + path.sep))
    throw new Error(
      `stateful.module "${op.module}" resolves to ${file}, outside the spec's folder ${folder}`,
    );
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`stateful.module "${op.module}" could not be loaded: ${(err as Error).message}`);
  }
  const fn = module[op.export];
  if (typeof fn !== 'function')
    throw new Error(`stateful.module "${op.module}" has no exported function "${op.export}"`);
  return fn as StatefulFunction;
}
