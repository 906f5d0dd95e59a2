// The SQL limits (limits.ts), checked in one linear pass over the text before node-sql-parser sees
// it. The scan follows the lexical rules of the parser's mysql grammar, checked against it:
// '…' and "…" strings with backslash escapes and doubled quotes, `…` identifiers, and comments
// from `--` or `#` to the end of the line and between /* and */ (not nested). Comments and quoted
// text are skipped, so they do not count as tokens or nesting.
import { formatLimit, SQL_MAX_BOOLEAN_TERMS, SQL_MAX_DEPTH, SQL_MAX_LENGTH, SQL_MAX_TOKENS } from '../limits';

export interface SqlLimitError {
  /** Offset in the SQL text of the character or token that went over the limit. */
  offset: number;
  message: string;
}

// Words after which an expression starts, so that an operator following them is a prefix one.
const EXPRESSION_KEYWORDS = new Set(
  'select where and or xor not case when then else by on having like between is in distinct all interval div mod'.split(
    ' ',
  ),
);
const BOOLEAN_WORDS = new Set(['and', 'or', 'xor', 'not']);
const OPERATOR_CHARS = new Set(['<', '>', '=', '!', '|', '&', '+', '-', '*', '/', '%', '^', '~']);

export function checkSqlLimits(sql: string): SqlLimitError | undefined {
  if (sql.length > SQL_MAX_LENGTH)
    return {
      offset: SQL_MAX_LENGTH,
      message: `the SQL is ${formatLimit(sql.length)} characters, more than ${formatLimit(SQL_MAX_LENGTH)} (limit SQL_MAX_LENGTH)`,
    };
  // Open parentheses and CASEs, innermost last, each with the nesting depth inside it.
  const open: Array<{ kind: '(' | 'case'; depth: number }> = [];
  // Prefix operators in a row (`NOT NOT x`, `- - 1`) nest as parentheses do, without them.
  let prefixRun = 0;
  let afterOperand = false; // an operator after an operand is binary, not a level deeper
  let tokens = 0;
  let booleans = 0;
  const depth = (): number => (open.at(-1)?.depth ?? 0) + prefixRun;
  const openLevel = (kind: '(' | 'case'): void => {
    open.push({ kind, depth: depth() + 1 });
    prefixRun = 0;
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    const start = i;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if ((c === '-' && sql[i + 1] === '-') || c === '#') {
      i = lineEnd(sql, i);
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? sql.length : close + 2;
      continue;
    }
    if (++tokens > SQL_MAX_TOKENS)
      return {
        offset: start,
        message: `more than ${formatLimit(SQL_MAX_TOKENS)} tokens (limit SQL_MAX_TOKENS)`,
      };
    if (c === "'" || c === '"' || c === '`') {
      i = quotedEnd(sql, i, c);
      prefixRun = 0;
      afterOperand = true;
    } else if (isWordChar(c)) {
      while (i < sql.length && isWordChar(sql[i] ?? '')) i++;
      const word = sql.slice(start, i).toLowerCase();
      if (BOOLEAN_WORDS.has(word) && ++booleans > SQL_MAX_BOOLEAN_TERMS) return tooManyBooleans(start);
      if (word === 'not' && !afterOperand) prefixRun++;
      else if (word === 'case') openLevel('case');
      else {
        if (word === 'end' && open.at(-1)?.kind === 'case') open.pop();
        prefixRun = 0;
      }
      afterOperand = !EXPRESSION_KEYWORDS.has(word);
    } else if (OPERATOR_CHARS.has(c)) {
      while (i < sql.length && OPERATOR_CHARS.has(sql[i] ?? '')) i++;
      const operator = sql.slice(start, i);
      if ((operator === '&&' || operator === '||') && ++booleans > SQL_MAX_BOOLEAN_TERMS)
        return tooManyBooleans(start);
      if (afterOperand) prefixRun = 0;
      else prefixRun++;
      afterOperand = false;
    } else {
      i++;
      if (c === '(') openLevel('(');
      else if (c === ')') {
        // closes its parenthesis and any CASE left open inside (a syntax error the parser reports)
        const paren = open.map((level) => level.kind).lastIndexOf('(');
        if (paren !== -1) open.length = paren;
      }
      prefixRun = 0;
      afterOperand = c === ')';
    }
    if (depth() > SQL_MAX_DEPTH) return tooDeep(start);
  }
  return undefined;
}

function tooDeep(offset: number): SqlLimitError {
  return {
    offset,
    message: `expression nesting deeper than ${formatLimit(SQL_MAX_DEPTH)} levels (limit SQL_MAX_DEPTH)`,
  };
}

function tooManyBooleans(offset: number): SqlLimitError {
  return {
    offset,
    message: `more than ${formatLimit(SQL_MAX_BOOLEAN_TERMS)} AND/OR/NOT operators (limit SQL_MAX_BOOLEAN_TERMS)`,
  };
}

function lineEnd(sql: string, from: number): number {
  const nl = sql.indexOf('\n', from);
  return nl === -1 ? sql.length : nl + 1;
}

/** Offset just past the quoted section starting at `from`; backslash escapes, doubled quotes continue it. */
function quotedEnd(sql: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\' && quote !== '`') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

function isWordChar(c: string): boolean {
  return (
    (c >= 'a' && c <= 'z') ||
    (c >= 'A' && c <= 'Z') ||
    (c >= '0' && c <= '9') ||
    c === '_' ||
    c === '$' ||
    c > '\x7f'
  );
}
