// Small lexical helpers over raw SQL text, for positions the AST does not carry.

/** Whether `index` lies inside a '…', "…" or `…` quoted section. */
export function insideQuotes(sql: string, index: number): boolean {
  let quote: string | undefined;
  for (let i = 0; i < index; i++) {
    const c = sql[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') {
      quote = c;
    }
  }
  return quote !== undefined;
}

/** Offset of the first occurrence of a keyword (regex source, matched case-insensitively) outside quotes. */
export function keywordOffset(sql: string, keyword: string): number | undefined {
  const pattern = new RegExp(`\\b${keyword}\\b`, 'gi');
  for (let match = pattern.exec(sql); match; match = pattern.exec(sql)) {
    if (!insideQuotes(sql, match.index)) return match.index;
  }
  return undefined;
}

/** 1-based line and column of `offset` within `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lastBreak = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - lastBreak };
}
