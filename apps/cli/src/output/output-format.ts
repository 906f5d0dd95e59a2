// `-o table|json|yaml`: tables for people, JSON or YAML of the API's own objects for scripts
// (the same fields the API documents, so a script written against one works with the other).
import YAML from 'yaml';
import { usageError } from '../exit-codes';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(v: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(v)) return v as OutputFormat;
  throw usageError(`-o must be one of ${OUTPUT_FORMATS.join(', ')} (got "${v}")`);
}

/** The data as text in a machine format; `table` is each command's own rendering. */
export function serialize(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : YAML.stringify(data);
}
