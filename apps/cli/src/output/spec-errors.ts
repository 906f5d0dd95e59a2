// Spec errors as compilers print them: `FILE:LINE:COL message`, then the source line and a caret
// under the column, so the fix is found without opening the file at that position.
export interface PositionedError {
  path?: string;
  message: string;
  line?: number;
  column?: number;
}

/** Longest source line shown; longer ones are cut around the column. */
const MAX_LINE = 120;

export function renderSpecErrors(file: string, text: string, errors: readonly PositionedError[]): string {
  const lines = text.split(/\r?\n/);
  const sorted = [...errors].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  const out: string[] = [];
  for (const e of sorted) {
    const where = e.line ? `${file}:${e.line}:${e.column ?? 1}` : file;
    out.push(`${where} ${e.path ? `${e.path}: ` : ''}${e.message}`);
    const source = e.line ? lines[e.line - 1] : undefined;
    if (source === undefined) continue;
    out.push(...sourceWithCaret(source, e.column ?? 1));
  }
  return out.join('\n') + '\n';
}

function sourceWithCaret(source: string, column: number): string[] {
  // Tabs would make the caret land elsewhere than the character it points at.
  let line = source.replace(/\t/g, ' ');
  let col = Math.max(1, Math.min(column, line.length + 1));
  if (line.length > MAX_LINE) {
    const start = Math.max(0, Math.min(col - 1 - MAX_LINE / 2, line.length - MAX_LINE));
    line = `${start > 0 ? '…' : ''}${line.slice(start, start + MAX_LINE)}`;
    col = col - start + (start > 0 ? 1 : 0);
  }
  return [`  ${line}`, `  ${' '.repeat(col - 1)}^`];
}
