// At most MAX_REPORTED_ERRORS errors per spec, in file order, and one more saying how many were
// left out (placed at the first of them).
import { formatLimit, MAX_REPORTED_ERRORS } from './limits';
import type { SpecError } from './types';

export function capErrors(errors: readonly SpecError[], total = errors.length): SpecError[] {
  const sorted = [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
  if (total <= MAX_REPORTED_ERRORS) return sorted;
  const shown = sorted.slice(0, MAX_REPORTED_ERRORS);
  const next = sorted[MAX_REPORTED_ERRORS] ?? sorted[sorted.length - 1];
  return [
    ...shown,
    {
      path: '',
      line: next?.line ?? 1,
      column: next?.column ?? 1,
      message: `${formatLimit(total - MAX_REPORTED_ERRORS)} more errors not shown (limit MAX_REPORTED_ERRORS)`,
    },
  ];
}
