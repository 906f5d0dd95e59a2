import type { SpecError } from './types';

/** One line per error: "FILE:LINE:COL path: message", in file order. */
export function formatErrors(errors: SpecError[], fileName: string): string {
  return [...errors]
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .map((e) => `${fileName}:${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}`)
    .join('\n');
}
