// `stateful:` in the spec — a user's TypeScript/JavaScript function applied per key after the
// SQL's projection, as Spark's flatMapGroupsWithState: (key, rows, state) => output rows. Checked
// here: the module path (relative, inside the spec's folder: no absolute path, no `..` out of
// it), the key columns (output columns of the SQL), the output mode and the timeout's watermark.
// The state schema is the plan's, so an upgrade that changes it is refused (upgrade rules).
import type { PathSegment } from '../spec/spec-document';
import type { ColumnType, QuerySpec, SourceSpec } from '../types';
import { sha256, withHash } from './hash';
import type { StatefulFunctionOperator } from './logical-plan';

export const STATEFUL_MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** The module path normalised to `a/b.ts`, or why it is refused. */
export function normaliseModulePath(
  module: string,
): { ok: true; path: string } | { ok: false; reason: string } {
  if (module.startsWith('/') || /^[A-Za-z]:/.test(module) || module.includes('\\'))
    return { ok: false, reason: 'must be a relative path with "/" separators, inside the spec\'s folder' };
  const parts: string[] = [];
  for (const part of module.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0)
        return { ok: false, reason: "must stay inside the spec's folder (it climbs out with ..)" };
      parts.pop();
    } else parts.push(part);
  }
  const path = parts.join('/');
  if (!STATEFUL_MODULE_EXTENSIONS.some((ext) => path.endsWith(ext)))
    return { ok: false, reason: `must name a ${STATEFUL_MODULE_EXTENSIONS.join(', ')} file` };
  return { ok: true, path };
}

export function compileStatefulFunction(
  spec: QuerySpec,
  sourceName: string,
  source: SourceSpec,
  outputs: ReadonlyArray<{ name: string; type: string }>,
  isOtherStateful: boolean,
  report: (path: PathSegment[], message: string) => void,
): { operator: StatefulFunctionOperator; output: Array<{ name: string; type: ColumnType }> } | undefined {
  const fn = spec.stateful;
  if (!fn) return undefined;
  let failed = false;
  const fail = (path: PathSegment[], message: string): void => {
    failed = true;
    report(['stateful', ...path], message);
  };
  if (isOtherStateful)
    fail([], 'stateful applies to queries without GROUP BY, aggregates, DISTINCT or options.dedupe');
  const module = normaliseModulePath(fn.module);
  if (!module.ok) fail(['module'], `module "${fn.module}" ${module.reason}`);
  const outputNames = outputs.map((o) => o.name);
  fn.key.forEach((key, i) => {
    if (!outputNames.includes(key))
      fail(['key', i], `key column "${key}" is not an output column of the SQL (${outputNames.join(', ')})`);
  });
  if (Object.keys(fn.output).length === 0) fail(['output'], 'declare at least one output column');
  // Complete mode is refused by the output-mode check (no aggregation), as Spark refuses it for
  // flatMapGroupsWithState.
  if (fn.timeout === 'eventTime' && !source.watermark)
    fail(
      ['timeout'],
      `timeout eventTime needs a watermark: add sources.${sourceName}.watermark (a key times out when the watermark passes its timeout timestamp)`,
    );
  if (failed || !module.ok) return undefined;
  const operator = withHash<StatefulFunctionOperator>({
    id: 'stateful',
    op: 'stateful',
    module: module.path,
    // The code is part of the plan (and its hash) when it travels with the spec: an upgrade that
    // changes it is reported (upgrade/stateful-rules.ts), and the engine's plan hash is the API's.
    ...(fn.source !== undefined ? { sourceSha256: sha256(fn.source) } : {}),
    export: fn.export,
    key: fn.key,
    timeout: fn.timeout,
    stateSchema: {
      key: fn.key.map((name) => ({ name, type: outputs.find((o) => o.name === name)?.type ?? 'string' })),
      value: Object.entries(fn.stateSchema).map(([name, type]) => ({ name, type })),
    },
  });
  return { operator, output: Object.entries(fn.output).map(([name, type]) => ({ name, type })) };
}
