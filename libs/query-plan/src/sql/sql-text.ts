// Small lexical helpers over raw SQL text, for positions the AST does not carry.

/**
 * Whether each of a series of non-decreasing offsets lies inside a '…', "…" or `…` quoted
 * section. One pass over the text in all, where a scan from the start for every match of a
 * pattern would be quadratic (a hostile SQL can hold thousands of quoted matches).
 */
export function quoteTracker(sql: string): (index: number) => boolean {
  let quote: string | undefined;
  let i = 0;
  return (index) => {
    for (; i < index; i++) {
      const c = sql[i];
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"' || c === '`') {
        quote = c;
      }
    }
    return quote !== undefined;
  };
}

/** Offset of the first occurrence of a keyword (regex source, matched case-insensitively) outside quotes. */
export function keywordOffset(sql: string, keyword: string): number | undefined {
  const pattern = new RegExp(`\\b${keyword}\\b`, 'gi');
  const insideQuotes = quoteTracker(sql);
  for (let match = pattern.exec(sql); match; match = pattern.exec(sql)) {
    if (!insideQuotes(match.index)) return match.index;
  }
  return undefined;
}

let lineIndex: { text: string; starts: number[] } | undefined;

/**
 * 1-based line and column of `offset` within `text`. Line starts are indexed once per text:
 * errors come in batches for one SQL, and slicing the text for each of thousands of errors (one
 * per column of a hostile SELECT) would be quadratic.
 */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  if (lineIndex?.text !== text) {
    const starts = [0];
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) starts.push(nl + 1);
    lineIndex = { text, starts };
  }
  const { starts } = lineIndex;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}
