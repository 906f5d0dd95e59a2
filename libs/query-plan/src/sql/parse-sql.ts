// node-sql-parser with the mysql grammar (why this grammar: ARCHITECTURE.md, "Query spec"), plus the Spark type
// names mysql lacks in CAST (STRING, LONG, SHORT, BYTE), which are rewritten before parsing.
// Every offset handed out refers to the SQL text as written.
import { Parser } from 'node-sql-parser';
import type { SelectNode } from './sql-ast';
import { quoteTracker } from './sql-text';

export type ParsedSql =
  | { ok: true; select: SelectNode; originalOffset: (offset: number) => number }
  | { ok: false; offset: number; message: string };

const SPARK_CAST_TYPES: Record<string, string> = {
  STRING: 'VARCHAR',
  LONG: 'BIGINT',
  SHORT: 'SMALLINT',
  BYTE: 'TINYINT',
};

const parser = new Parser();

/** For a RangeError (stack or memory exhausted) while parsing or compiling the SQL. */
export const SQL_TOO_COMPLEX =
  'the SQL is too complex to compile: simplify its nesting (limit SQL_MAX_DEPTH) or its AND/OR chains (limit SQL_MAX_BOOLEAN_TERMS)';

export function parseSql(sql: string): ParsedSql {
  const { text, originalOffset } = rewriteSparkCasts(sql);
  let ast: unknown;
  try {
    ast = parser.astify(text, { database: 'mysql', parseOptions: { includeLocations: true } });
  } catch (error) {
    return { ok: false, ...describeParseError(error, originalOffset) };
  }
  const statements = Array.isArray(ast) ? ast : [ast];
  const statement = statements[0] as { type: string } | undefined;
  if (statements.length !== 1 || !statement)
    return { ok: false, offset: 0, message: 'sql must be exactly one SELECT statement' };
  if (statement.type !== 'select')
    return {
      ok: false,
      offset: 0,
      message: `sql must be a SELECT statement, not ${statement.type.toUpperCase()}`,
    };
  return { ok: true, select: statement as SelectNode, originalOffset };
}

function describeParseError(
  error: unknown,
  originalOffset: (offset: number) => number,
): { offset: number; message: string } {
  // The grammar recurses a dozen frames per nesting level; the limits (sql-limits.ts) keep real
  // input far from the stack's end, and this keeps anything they miss an ordinary error.
  if (error instanceof RangeError) return { offset: 0, message: SQL_TOO_COMPLEX };
  const location = (error as { location?: { start?: { offset?: number } } } | null)?.location?.start?.offset;
  const message = error instanceof Error ? error.message : String(error);
  if (location === undefined) return { offset: 0, message: `SQL not understood: ${message}` };
  // peg.js messages list every expected token; the unexpected one is what a user needs.
  const found = /but (.+) found\.?$/.exec(message)?.[1];
  return {
    offset: originalOffset(location),
    message: found ? `SQL syntax error: unexpected ${found}` : `SQL syntax error: ${message}`,
  };
}

/**
 * Replaces `AS STRING)` and friends, and Spark's `INTERVAL '1 hour'`, outside string literals;
 * keeps a map back to original offsets.
 */
function rewriteSparkCasts(sql: string): { text: string; originalOffset: (offset: number) => number } {
  const edits: Array<{ at: number; delta: number }> = [];
  let text = '';
  let last = 0;
  const pattern = /\bAS(\s+)(STRING|LONG|SHORT|BYTE)(?=\s*\))/gi;
  const insideQuotes = quoteTracker(sql);
  // Spark's INTERVAL '1 hour' (the unit inside the string) → mysql's INTERVAL 1 HOUR.
  const interval = /\bINTERVAL\s+'\s*(\d{1,9})\s*(second|minute|hour|day)s?\s*'/gi;
  for (let match = interval.exec(sql); match; match = interval.exec(sql)) {
    if (insideQuotes(match.index)) continue;
    const replacement = `INTERVAL ${match[1]} ${match[2]!.toUpperCase()}`;
    text += sql.slice(last, match.index) + replacement;
    last = match.index + match[0].length;
    edits.push({ at: text.length, delta: replacement.length - match[0].length });
  }
  if (edits.length > 0) {
    // Casts are rewritten in the text the interval pass produced (offsets map through both).
    text += sql.slice(last);
    const inner = rewriteSparkCasts(text);
    const outer = (offset: number): number => {
      let shift = 0;
      for (const edit of edits) if (offset >= edit.at) shift += edit.delta;
      return Math.max(0, offset - shift);
    };
    return { text: inner.text, originalOffset: (offset) => outer(inner.originalOffset(offset)) };
  }
  for (let match = pattern.exec(sql); match; match = pattern.exec(sql)) {
    if (insideQuotes(match.index)) continue;
    const typeStart = match.index + 2 + (match[1]?.length ?? 0);
    const original = match[2] ?? '';
    const replacement = SPARK_CAST_TYPES[original.toUpperCase()] ?? original;
    text += sql.slice(last, typeStart) + replacement;
    last = typeStart + original.length;
    edits.push({ at: text.length, delta: replacement.length - original.length });
  }
  text += sql.slice(last);
  const originalOffset = (offset: number): number => {
    let shift = 0;
    for (const edit of edits) if (offset >= edit.at) shift += edit.delta;
    return Math.max(0, offset - shift);
  };
  return { text, originalOffset };
}
