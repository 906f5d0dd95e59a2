// Spec text → normalised QuerySpec, or errors that each name a path and a line/column.
import type { z } from 'zod';
import { capErrors } from '../error-cap';
import { MAX_REPORTED_ERRORS } from '../limits';
import type { QuerySpec, SpecError } from '../types';
import { formatPath, SpecDocument, type PathSegment } from './spec-document';
import { querySpecSchema } from './spec-schema';

export type ParsedSpec =
  { ok: true; spec: QuerySpec; document: SpecDocument } | { ok: false; errors: SpecError[] };

export function parseSpec(text: string): ParsedSpec {
  const parsed = SpecDocument.parse(text);
  if (!parsed.ok) return parsed;
  const { document, value } = parsed;
  const result = querySpecSchema.safeParse(value);
  if (!result.success) {
    // Located one by one (a walk of the document each), so only as many as will be reported.
    const errors: SpecError[] = [];
    let total = 0;
    for (const issue of result.error.issues) {
      total += issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
      if (errors.length <= MAX_REPORTED_ERRORS) errors.push(...toSpecErrors(issue, value, document));
    }
    return { ok: false, errors: capErrors(errors.slice(0, MAX_REPORTED_ERRORS + 1), total) };
  }
  const errors = checkSpec(result.data).map(({ path, message }) => specError(document, path, message));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, spec: result.data, document };
}

export function specError(
  document: SpecDocument,
  path: readonly PathSegment[],
  message: string,
  options: { key?: boolean } = {},
): SpecError {
  return { path: formatPath(path), ...document.locate(path, options), message };
}

function toSpecErrors(issue: z.core.$ZodIssue, input: unknown, document: SpecDocument): SpecError[] {
  const path = issue.path.filter((seg): seg is PathSegment => typeof seg !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .slice(0, MAX_REPORTED_ERRORS + 1)
      .map((key) => specError(document, [...path, key], `unknown key "${key}"`, { key: true }));
  }
  if (issue.code === 'invalid_type' && valueAt(input, path) === undefined) {
    const key = path.at(-1);
    return [
      specError(
        document,
        path,
        key === undefined ? 'missing value' : `missing required key "${String(key)}"`,
      ),
    ];
  }
  return [specError(document, path, issue.message)];
}

function valueAt(input: unknown, path: readonly PathSegment[]): unknown {
  let node = input;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

/** Rules across fields that the zod schema does not express. */
function checkSpec(spec: QuerySpec): Array<{ path: PathSegment[]; message: string }> {
  const problems: Array<{ path: PathSegment[]; message: string }> = [];
  const sourceNames = Object.keys(spec.sources);
  if (sourceNames.length === 0) problems.push({ path: ['sources'], message: 'declare at least one source' });
  for (const name of sourceNames) {
    const source = spec.sources[name];
    if (!source) continue;
    const at = (...rest: PathSegment[]): PathSegment[] => ['sources', name, ...rest];
    const columns = Object.keys(source.schema);
    if (source.format === 'raw') {
      if (columns.length !== 1 || source.schema['value'] !== 'string')
        problems.push({
          path: at('schema'),
          message: 'a raw source has exactly one column: { value: string }',
        });
    } else if (columns.length === 0) {
      problems.push({
        path: at('schema'),
        message: `a ${source.format} source needs a schema, e.g. { id: string, ts: timestamp }`,
      });
    }
    if (source.watermark) {
      const type = source.schema[source.watermark.column];
      if (type === undefined)
        problems.push({
          path: at('watermark', 'column'),
          message: `unknown column "${source.watermark.column}" (schema has ${columns.join(', ')})`,
        });
      else if (type !== 'timestamp')
        problems.push({
          path: at('watermark', 'column'),
          message: `the watermark column must be a timestamp, "${source.watermark.column}" is ${type}`,
        });
    }
    const offsets = source.kafka?.startingOffsets;
    if (source.kafka && typeof offsets === 'object') {
      for (const topic of Object.keys(offsets)) {
        if (topic !== source.kafka.topic)
          problems.push({
            path: at('kafka', 'startingOffsets'),
            message: `startingOffsets names topic "${topic}" but the source reads "${source.kafka.topic}"`,
          });
      }
    }
  }
  return problems;
}
