// A spec whose `stateful.module` names a file next to it (as `engine run` and `engine test` read
// it) is sent with that file's code inline in `stateful.source`: the control plane runs a
// stateful function only from code that travels with the spec (stored with the version, so an
// upgrade or a rollback runs the right code). The file is read with the engine's rules: relative,
// inside the spec's folder (also through symlinks), one of the module extensions, bounded.
import fs from 'node:fs';
import path from 'node:path';
import { isMap, parseDocument, Scalar } from 'yaml';
import { CliError } from './exit-codes';

export async function inlineStatefulModule(specFile: string, text: string): Promise<string> {
  // Cheap first test: most specs have no stateful function, and parsing is skipped for them.
  if (!/^stateful\s*:/m.test(text) && !text.includes('"stateful"')) return text;
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return text; // the API reports it, with positions
  const stateful = doc.get('stateful');
  if (!isMap(stateful) || stateful.has('source')) return text;
  const module = stateful.get('module');
  if (typeof module !== 'string') return text;
  // Loaded only for a stateful spec: the compiler's module takes a moment (the SQL parser).
  const { normaliseModulePath, limits } = await import('@sluice/query-plan');
  const { STATEFUL_SOURCE_MAX_BYTES } = limits;
  const checked = normaliseModulePath(module);
  if (!checked.ok) throw new CliError(`${specFile}: stateful.module "${module}" ${checked.reason}`);
  const folder = fs.realpathSync(path.dirname(path.resolve(specFile)));
  let file: string;
  try {
    file = fs.realpathSync(path.join(folder, checked.path));
  } catch {
    throw new CliError(`${specFile}: stateful.module "${module}": no such file in ${folder}`);
  }
  if (!file.startsWith(folder + path.sep))
    throw new CliError(`${specFile}: stateful.module "${module}" resolves to ${file}, outside ${folder}`);
  if (fs.statSync(file).size > STATEFUL_SOURCE_MAX_BYTES)
    throw new CliError(
      `${file}: a stateful module sent with its spec is at most ${STATEFUL_SOURCE_MAX_BYTES / 1024} KiB`,
    );
  const source = new Scalar(fs.readFileSync(file, 'utf8'));
  source.type = Scalar.BLOCK_LITERAL;
  stateful.set('source', source);
  return doc.toString();
}
