// Every input limit: just over it, the spec is refused with a positioned error naming the limit;
// just under it, the spec compiles (or fails for a reason that has nothing to do with the limit).
import { Lexer } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileSpec, type SpecError } from './index';
import {
  MAX_REPORTED_ERRORS,
  SPEC_MAX_ALIASES,
  SPEC_MAX_BYTES,
  SPEC_MAX_DEPTH,
  SPEC_MAX_TOKENS,
  SPEC_MAX_VALUES,
  SQL_MAX_BOOLEAN_TERMS,
  SQL_MAX_DEPTH,
  SQL_MAX_LENGTH,
  SQL_MAX_TOKENS,
} from './limits';
import { parseSql } from './sql/parse-sql';
import { querySpec, SQL_COLUMN, SQL_LINE } from './testing/spec-text';

const spec = (sql: string): string => querySpec({ sql, outputMode: 'append', watermark: false });
const where = (condition: string): string => `SELECT user_id FROM clicks WHERE ${condition}`;
const repeat = (n: number, item: (i: number) => string, separator: string): string =>
  Array.from({ length: n }, (_, i) => item(i)).join(separator);

function errorsOf(text: string): SpecError[] {
  const result = compileSpec(text);
  if (result.ok) throw new Error('expected the spec to be rejected');
  return result.errors;
}

/** The one error naming `limit`; fails if there is none. */
function limitError(text: string, limit: string): SpecError {
  const errors = errorsOf(text);
  const error = errors.find((e) => e.message.includes(`limit ${limit}`));
  if (!error) throw new Error(`no error names ${limit}: ${JSON.stringify(errors)}`);
  return error;
}

/** Compiles, or fails only for reasons other than any limit. */
function expectWithinLimits(text: string): void {
  const result = compileSpec(text);
  if (!result.ok)
    expect(result.errors.map((e) => e.message).join('\n')).not.toMatch(/limit [A-Z_]+|too complex/);
}

const expectCompiles = (text: string): void => {
  const result = compileSpec(text);
  expect(result.ok ? [] : result.errors).toEqual([]);
};

const lexemes = (text: string): number => [...new Lexer().lex(text)].length;

describe('spec text limits', () => {
  // A YAML comment after the spec pads it to any size without changing what it means.
  const padded = (bytes: number, filler = 'x'): string => {
    const base = `${spec(where('bytes > 1'))}# `;
    const fill = bytes - Buffer.byteLength(base) - 1;
    return `${base}${filler.repeat(Math.floor(fill / Buffer.byteLength(filler)))}\n`;
  };

  it('SPEC_MAX_BYTES: refuses one byte more, at the first character past the limit', () => {
    const at = padded(SPEC_MAX_BYTES);
    expect(Buffer.byteLength(at)).toBe(SPEC_MAX_BYTES);
    expectCompiles(at);
    const over = `${at}x`;
    const error = limitError(over, 'SPEC_MAX_BYTES');
    expect(error).toMatchObject({ path: '', line: over.split('\n').length, column: 1 });
    expect(error.message).toContain(`is ${(SPEC_MAX_BYTES + 1).toLocaleString('en-US')} bytes`);
  });

  it('SPEC_MAX_BYTES counts UTF-8 bytes, not characters', () => {
    const text = padded(SPEC_MAX_BYTES + 3, 'é');
    expect(text.length).toBeLessThan(SPEC_MAX_BYTES);
    expect(limitError(text, 'SPEC_MAX_BYTES').line).toBe(text.split('\n').length - 1);
  });

  it('refuses a NUL character in a comment or in the SQL, naming its line and column', () => {
    const inComment = `${spec(where('bytes > 1'))}# a\0b\n`;
    expect(errorsOf(inComment)).toEqual([
      {
        path: '',
        line: inComment.split('\n').length - 1,
        column: 4,
        message: expect.stringContaining('NUL'),
      },
    ]);
    const inSql = spec(where("url = 'a\0b'"));
    const column = SQL_COLUMN + where("url = 'a").length;
    expect(errorsOf(inSql)).toEqual([
      { path: '', line: SQL_LINE, column, message: expect.stringContaining('NUL') },
    ]);
  });

  it('refuses NUL characters and unpaired surrogates that escapes produce', () => {
    const nulEscape = spec(where('bytes > 1')).replace('name: q', 'name: "q\\0"');
    expect(errorsOf(nulEscape)).toEqual([
      { path: 'name', line: 1, column: 7, message: expect.stringContaining('NUL') },
    ]);
    const surrogate = spec(where('bytes > 1')).replace('name: q', 'name: "q\\ud800"');
    expect(errorsOf(surrogate)[0]).toMatchObject({
      path: 'name',
      line: 1,
      message: expect.stringContaining('surrogate'),
    });
    const sqlEscape = spec(where("url = 'a\\u0000'"));
    expect(errorsOf(sqlEscape)[0]).toMatchObject({
      path: 'sql',
      line: SQL_LINE,
      message: expect.stringContaining('NUL'),
    });
  });
});

describe('YAML / JSON limits', () => {
  const nestedSeq = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  // `padding:` sits in the top-level mapping (level 1), so its value adds `depth` levels.
  const withPadding = (value: string): string => `${spec(where('bytes > 1'))}padding: ${value}\n`;
  const paddingLine = spec(where('bytes > 1')).split('\n').length;

  it('SPEC_MAX_DEPTH: flow collections, pointing at the collection one level too deep', () => {
    const error = limitError(withPadding(nestedSeq(SPEC_MAX_DEPTH)), 'SPEC_MAX_DEPTH');
    expect(error).toMatchObject({ path: '', line: paddingLine, column: 'padding: '.length + SPEC_MAX_DEPTH });
    expect(error.message).toContain(`nesting deeper than ${SPEC_MAX_DEPTH} levels`);
    expect(errorsOf(withPadding(nestedSeq(SPEC_MAX_DEPTH - 1)))).toEqual([
      expect.objectContaining({ path: 'padding', message: 'unknown key "padding"' }),
    ]);
  });

  it('SPEC_MAX_DEPTH: block sequences and JSON', () => {
    const block = (depth: number): string =>
      `${spec(where('bytes > 1'))}padding:\n  ${'- '.repeat(depth)}x\n`;
    limitError(block(SPEC_MAX_DEPTH), 'SPEC_MAX_DEPTH');
    expectWithinLimits(block(SPEC_MAX_DEPTH - 1));
    const json = (depth: number): string => `{"name": "q", "padding": ${nestedSeq(depth)}}`;
    expect(limitError(json(SPEC_MAX_DEPTH), 'SPEC_MAX_DEPTH')).toMatchObject({
      line: 1,
      column: 26 + SPEC_MAX_DEPTH - 1,
    });
    expectWithinLimits(json(SPEC_MAX_DEPTH - 1));
  });

  it('SPEC_MAX_DEPTH: the attack of the hardening issue (nested [ under the size limit) is refused', () => {
    expect(limitError(`name: x\nsources: ${'['.repeat(100_000)}`, 'SPEC_MAX_DEPTH').line).toBe(2);
  });

  it('SPEC_MAX_TOKENS: counts yaml lexemes and stops at the first one over', () => {
    const items = (n: number): string => withPadding(`[${repeat(n, () => '1', ',')}]`);
    let fits = 0; // the most items whose spec stays within the token limit
    for (let step = 4096; step >= 1; step /= 2)
      if (lexemes(items(fits + step)) <= SPEC_MAX_TOKENS) fits += step;
    expect(lexemes(items(fits + 1))).toBeGreaterThan(SPEC_MAX_TOKENS);
    expectWithinLimits(items(fits));
    expect(limitError(items(fits + 1), 'SPEC_MAX_TOKENS')).toMatchObject({ line: paddingLine });
  });

  it('SPEC_MAX_ALIASES: counts alias nodes', () => {
    const aliases = (n: number): string =>
      `${spec(where('bytes > 1')).replace('name: q', 'name: &n q')}padding: [${repeat(n, () => '*n', ', ')}]\n`;
    expectWithinLimits(aliases(SPEC_MAX_ALIASES));
    expect(limitError(aliases(SPEC_MAX_ALIASES + 1), 'SPEC_MAX_ALIASES')).toMatchObject({
      line: paddingLine,
    });
  });

  it('SPEC_MAX_VALUES: counts the values aliases stand for', () => {
    // an anchored sequence of k values, aliased 99 times: about 100 * k values after expansion
    const expanded = (k: number): string =>
      `${spec(where('bytes > 1'))}padding:\n  - &big [${repeat(k, () => '1', ', ')}]\n${repeat(99, () => '  - *big', '\n')}\n`;
    expect(limitError(expanded(60), 'SPEC_MAX_VALUES')).toMatchObject({
      path: expect.stringMatching(/^padding\[\d+\]/),
    });
    expectWithinLimits(expanded(Math.floor(SPEC_MAX_VALUES / 100) - 5));
  });

  it('refuses exponentially nested aliases ("billion laughs")', () => {
    const letters = 'abcdefghij';
    const laughs = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...[...letters.slice(1)].map(
        (l, i) => `${l}: &${l} [${repeat(10, () => `*${letters[i] ?? ''}`, ', ')}]`,
      ),
    ].join('\n');
    expect(errorsOf(laughs)[0]?.message).toMatch(/limit SPEC_MAX_(ALIASES|VALUES)/);
  });

  it('still reports duplicate keys (checked without yaml quadratic comparison)', () => {
    const errors = errorsOf(`${spec(where('bytes > 1'))}outputMode: append\n`);
    expect(errors[0]).toMatchObject({
      line: paddingLine,
      column: 1,
      message: expect.stringMatching(/unique/),
    });
  });

  it('MAX_REPORTED_ERRORS: reports the first errors and counts the rest', () => {
    const keys = MAX_REPORTED_ERRORS + 50;
    const errors = errorsOf(`${spec(where('bytes > 1'))}${repeat(keys, (i) => `k${i}: 1`, '\n')}\n`);
    expect(errors).toHaveLength(MAX_REPORTED_ERRORS + 1);
    expect(errors[0]).toMatchObject({ path: 'k0', line: paddingLine });
    expect(errors.at(-1)).toMatchObject({ message: '50 more errors not shown (limit MAX_REPORTED_ERRORS)' });
  });
});

describe('SQL limits', () => {
  /** Spec position of SQL offset `offset` when the SQL is one line. */
  const at = (offset: number) => ({ path: 'sql', line: SQL_LINE, column: SQL_COLUMN + offset });

  it('SQL_MAX_LENGTH', () => {
    // the `sql: |` block scalar keeps its final line break: one character more than written
    const sql = (length: number): string => {
      const head = `${where('bytes > 1')} /* `;
      return `${head}${'x'.repeat(length - 1 - head.length - 3)} */`;
    };
    expect(sql(SQL_MAX_LENGTH)).toHaveLength(SQL_MAX_LENGTH - 1);
    expectCompiles(spec(sql(SQL_MAX_LENGTH)));
    expect(limitError(spec(sql(SQL_MAX_LENGTH + 1)), 'SQL_MAX_LENGTH')).toMatchObject(at(SQL_MAX_LENGTH));
  });

  it('SQL_MAX_DEPTH: parentheses, at the first one too deep', () => {
    const nested = (depth: number): string => where(`${'('.repeat(depth)}bytes > 1${')'.repeat(depth)}`);
    expectCompiles(spec(nested(SQL_MAX_DEPTH)));
    const error = limitError(spec(nested(SQL_MAX_DEPTH + 1)), 'SQL_MAX_DEPTH');
    expect(error).toMatchObject(at(where('').length + SQL_MAX_DEPTH));
    expect(error.message).toMatch(
      /^expression nesting deeper than 64 levels \(limit SQL_MAX_DEPTH\) \(SQL line 1, column \d+\)$/,
    );
  });

  it('SQL_MAX_DEPTH: prefix operators and CASE nest without parentheses', () => {
    const nots = (n: number): string => where(`${'NOT '.repeat(n)}ok`);
    expectCompiles(spec(nots(SQL_MAX_DEPTH)));
    expect(limitError(spec(nots(SQL_MAX_DEPTH + 1)), 'SQL_MAX_DEPTH')).toMatchObject(
      at(where('').length + 4 * SQL_MAX_DEPTH),
    );
    const minus = (n: number): string => where(`bytes = ${'- '.repeat(n)}1`);
    expectCompiles(spec(minus(SQL_MAX_DEPTH)));
    expect(limitError(spec(minus(SQL_MAX_DEPTH + 1)), 'SQL_MAX_DEPTH')).toMatchObject(
      at(where('bytes = ').length + 2 * SQL_MAX_DEPTH),
    );
    const cases = (n: number): string =>
      where(`${'CASE WHEN ok THEN '.repeat(n)}true${' ELSE false END'.repeat(n)}`);
    expectWithinLimits(spec(cases(SQL_MAX_DEPTH)));
    const deepCase = cases(SQL_MAX_DEPTH + 1);
    expect(limitError(spec(deepCase), 'SQL_MAX_DEPTH')).toMatchObject(at(deepCase.lastIndexOf('CASE')));
  });

  it('SQL_MAX_BOOLEAN_TERMS, at the first operator over', () => {
    const ors = (n: number): string => where(repeat(n + 1, () => 'ok', ' OR '));
    expectCompiles(spec(ors(SQL_MAX_BOOLEAN_TERMS)));
    const over = ors(SQL_MAX_BOOLEAN_TERMS + 1);
    expect(limitError(spec(over), 'SQL_MAX_BOOLEAN_TERMS')).toMatchObject(at(over.lastIndexOf('OR')));
  });

  it('SQL_MAX_TOKENS, at the first token over', () => {
    // SELECT user_id FROM clicks WHERE bytes IN ( n numbers, n - 1 commas ) is 2n + 8 tokens
    const n = (SQL_MAX_TOKENS - 8) / 2;
    const list = repeat(n, (i) => String(i), ', ');
    expectCompiles(spec(where(`bytes IN (${list})`)));
    const over = where(`bytes IN (-${list})`); // the minus is one token more
    expect(limitError(spec(over), 'SQL_MAX_TOKENS')).toMatchObject(at(over.length - 1));
  });

  it('does not count quoted text or comments', () => {
    const text = `'${'( OR '.repeat(SQL_MAX_TOKENS)}'`;
    expectCompiles(spec(`${where(`url <> ${text}`)} -- ${'( AND '.repeat(SQL_MAX_TOKENS)}`));
  });

  it('the attacks of the hardening issue are refused by a limit, never as internal errors', () => {
    const ors = (n: number): string => spec(where(repeat(n, (i) => `bytes = ${i}`, ' OR ')));
    limitError(ors(20_000), 'SPEC_MAX_BYTES');
    limitError(ors(2_000), 'SQL_MAX_TOKENS');
    limitError(`${'['.repeat(400_000)}${']'.repeat(400_000)}`, 'SPEC_MAX_BYTES');
  });
});

describe('stack exhaustion', () => {
  it('the SQL parser running out of stack is an ordinary error, not an exception', () => {
    // far beyond SQL_MAX_DEPTH: only reachable by calling the parser directly
    const result = parseSql(`SELECT ${'('.repeat(50_000)}1${')'.repeat(50_000)} FROM clicks`);
    expect(result).toMatchObject({ ok: false, offset: 0, message: expect.stringContaining('too complex') });
  });
});
