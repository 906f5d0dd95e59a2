// Worst-case spec texts for compileSpec: each is as expensive as the limits allow for one shape of
// input (just under the limit it probes), plus the attacks that must be refused cheaply.
import {
  SPEC_MAX_ALIASES,
  SPEC_MAX_BYTES,
  SPEC_MAX_DEPTH,
  SPEC_MAX_TOKENS,
  SQL_MAX_BOOLEAN_TERMS,
  SQL_MAX_DEPTH,
  SQL_MAX_LENGTH,
  SQL_MAX_TOKENS,
} from '../../libs/query-plan/src/limits';

export interface BenchCase {
  name: string;
  /** What the case is as expensive as possible in. */
  probes: string;
  text: string;
}

const HEADER = [
  'name: bench',
  'sources:',
  '  clicks:',
  '    kafka: { topic: clicks, startingOffsets: earliest }',
  '    format: json',
  '    schema: { user_id: string, url: string, ts: timestamp, bytes: long, ok: boolean }',
];

/** A valid stateless spec around `sql`, with extra lines (YAML) appended at the end. */
function spec(sql: string, extra = '', schemaLine = HEADER[5] ?? ''): string {
  return [
    ...HEADER.slice(0, 5),
    schemaLine,
    'sql: |',
    ...sql.split('\n').map((line) => `  ${line}`),
    'sink: { console: {} }',
    'outputMode: append',
    extra,
  ].join('\n');
}

const where = (condition: string): string => `SELECT user_id, bytes FROM clicks WHERE ${condition}`;
const repeat = (n: number, f: (i: number) => string, sep: string): string =>
  Array.from({ length: n }, (_, i) => f(i)).join(sep);

/** Largest n for which `make(n)` is still within `fits`. */
function largest(make: (n: number) => string, fits: (text: string) => boolean): string {
  let lo = 1;
  let hi = 1;
  while (fits(make(hi * 2))) hi *= 2;
  hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(make(mid))) lo = mid;
    else hi = mid;
  }
  return make(lo);
}

/** yaml lexemes in a text, as SPEC_MAX_TOKENS counts them. */
async function lexemes(): Promise<(text: string) => number> {
  const { Lexer } = await import('yaml');
  return (text) => {
    let n = 0;
    for (const _ of new Lexer().lex(text)) n++;
    return n;
  };
}

export async function worstCases(): Promise<BenchCase[]> {
  const count = await lexemes();
  const underTokens = (text: string): boolean => count(text) <= SPEC_MAX_TOKENS - 50;
  const underBytes = (text: string): boolean => Buffer.byteLength(text) < SPEC_MAX_BYTES;
  const sqlTokens = (sql: string): number => (sql.match(/[\w$]+|'[^']*'|\S/g) ?? []).length;
  const nested = (depth: number, inner: string): string => `${'('.repeat(depth)}${inner}${')'.repeat(depth)}`;
  return [
    {
      name: 'spec-bytes',
      probes: 'SPEC_MAX_BYTES: the largest spec, its SQL one long string literal',
      text: largest(
        (n) => spec(where(`url = '${'x'.repeat(n)}'`)),
        (t) => underBytes(t) && t.length < SQL_MAX_LENGTH,
      ),
    },
    {
      name: 'spec-tokens-schema',
      probes: 'SPEC_MAX_TOKENS: a schema as wide as the token limit allows (valid)',
      text: largest(
        (n) =>
          spec(
            where('bytes > 1'),
            '',
            `    schema: { user_id: string, url: string, ts: timestamp, bytes: long, ok: boolean, ${repeat(n, (i) => `c${i}: long`, ', ')} }`,
          ),
        (t) => underTokens(t) && underBytes(t),
      ),
    },
    {
      name: 'spec-tokens-flow-seq',
      probes: 'SPEC_MAX_TOKENS: one-character items, the densest tokens ([1,1,1,…])',
      text: largest(
        (n) => spec(where('bytes > 1'), `padding: [${'1,'.repeat(n)}1]`),
        (t) => underTokens(t) && underBytes(t),
      ),
    },
    {
      name: 'spec-keys',
      probes:
        'SPEC_MAX_TOKENS: as many mapping keys as tokens allow (yaml checks duplicate keys quadratically)',
      text: largest(
        (n) => spec(where('bytes > 1'), `options: {${repeat(n, (i) => `k${i}: 1`, ', ')}}`),
        (t) => underTokens(t) && underBytes(t),
      ),
    },
    {
      name: 'spec-depth',
      probes: 'SPEC_MAX_DEPTH: nesting just under the limit, repeated up to the token limit',
      text: largest(
        (n) => spec(where('bytes > 1'), `padding: [${repeat(n, () => nestedSeq(SPEC_MAX_DEPTH - 2), ', ')}]`),
        (t) => underTokens(t) && underBytes(t),
      ),
    },
    {
      name: 'spec-aliases',
      probes: 'SPEC_MAX_ALIASES: every alias to the largest anchor the value budget allows',
      text: aliasSpec(),
    },
    {
      name: 'sql-or',
      probes: 'SQL_MAX_BOOLEAN_TERMS: as many ORs as the limits allow (a tree that deep after parsing)',
      text: spec(
        where(repeat(Math.min(SQL_MAX_BOOLEAN_TERMS, (SQL_MAX_TOKENS - 50) / 2), () => 'ok', ' OR ')),
      ),
    },
    {
      name: 'sql-and-or-mixed',
      probes: 'SQL_MAX_BOOLEAN_TERMS: AND/OR of comparisons, as many as the tokens allow',
      text: spec(where(largestSql((n) => repeat(n, (i) => `bytes > ${i} AND ok`, ' OR '), sqlTokens))),
    },
    {
      name: 'sql-depth',
      probes: 'SQL_MAX_DEPTH: parentheses just under the limit, repeated up to the token limit',
      text: spec(
        where(
          largestSql(
            (n) => repeat(n, (i) => nested(SQL_MAX_DEPTH - 1, `bytes = ${i}`), ' + 0 = 0 OR '),
            sqlTokens,
          ),
        ),
      ),
    },
    {
      name: 'sql-case',
      probes: 'SQL_MAX_DEPTH: CASE nested just under the limit',
      text: spec(
        where(
          `${'CASE WHEN bytes > 1 THEN '.repeat(SQL_MAX_DEPTH - 2)}true${' ELSE false END'.repeat(SQL_MAX_DEPTH - 2)}`,
        ),
      ),
    },
    {
      name: 'sql-in-list',
      probes: 'SQL_MAX_TOKENS: an IN list as long as the token limit allows',
      text: spec(where(`bytes IN (${largestSql((n) => repeat(n, (i) => `${i}`, ', '), sqlTokens)})`)),
    },
    {
      name: 'sql-arithmetic',
      probes: 'SQL_MAX_TOKENS: one arithmetic chain (a left-deep tree as deep as the tokens allow)',
      text: spec(where(`bytes = ${largestSql((n) => repeat(n, (i) => `${i}`, ' + '), sqlTokens)}`)),
    },
    {
      name: 'sql-not-chain',
      probes: 'SQL_MAX_DEPTH: NOT NOT … (nesting without parentheses)',
      text: spec(where(`${'NOT '.repeat(SQL_MAX_DEPTH - 1)}ok`)),
    },
    {
      name: 'sql-negate-chain',
      probes: 'SQL_MAX_DEPTH: - - - … 1 (unary nesting without parentheses), repeated up to the token limit',
      text: spec(
        where(`bytes = ${repeat(SQL_MAX_TOKENS / 70, () => `${'- '.repeat(SQL_MAX_DEPTH - 2)}1`, ' + ')}`),
      ),
    },
    {
      name: 'sql-columns',
      probes: 'SQL_MAX_TOKENS: SELECT items, each an error (the error path)',
      text: spec(`SELECT ${largestSql((n) => repeat(n, (i) => `nope${i}`, ', '), sqlTokens)} FROM clicks`),
    },
    {
      name: 'sql-length',
      probes: 'SQL_MAX_LENGTH: the longest SQL, mostly a comment',
      text: spec(`${where('bytes > 1')}\n/* ${'x'.repeat(SQL_MAX_LENGTH - 200)} */`),
    },
  ];

  function largestSql(make: (n: number) => string, tokens: (sql: string) => number): string {
    return largest(make, (sql) => tokens(sql) <= SQL_MAX_TOKENS - 40 && sql.length < SQL_MAX_LENGTH - 100);
  }
}

function nestedSeq(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** An anchored schema of k columns, aliased SPEC_MAX_ALIASES times as further sources. */
function aliasSpec(): string {
  const columns = 190;
  const schema = Array.from({ length: columns }, (_, i) => `c${i}: long`).join(', ');
  const sources = Array.from(
    { length: SPEC_MAX_ALIASES },
    (_, i) =>
      `  s${i}:\n    kafka: { topic: t${i}, startingOffsets: earliest }\n    format: json\n    schema: *wide`,
  ).join('\n');
  return [
    'name: bench',
    'sources:',
    '  clicks:',
    '    kafka: { topic: clicks, startingOffsets: earliest }',
    '    format: json',
    `    schema: &wide { user_id: string, bytes: long, ${schema} }`,
    sources,
    'sql: SELECT user_id, bytes FROM clicks WHERE bytes > 1',
    'sink: { console: {} }',
    'outputMode: append',
    '',
  ].join('\n');
}

/** Inputs over the limits, as sent by the attacker of the hardening issue: refused, and fast. */
export function attacks(): BenchCase[] {
  const deep = 400_000;
  return [
    {
      name: 'attack-800kb-brackets',
      probes: 'refused: SPEC_MAX_BYTES',
      text: `name: x\nsources: ${'['.repeat(deep)}${']'.repeat(deep)}`,
    },
    {
      name: 'attack-deep-under-size',
      probes: 'refused: SPEC_MAX_DEPTH',
      text: `name: x\nsources: ${'['.repeat(60_000)}`,
    },
    {
      name: 'attack-20000-or',
      probes: 'refused: SPEC_MAX_BYTES (510 KB)',
      text: spec(where(repeat(20_000, (i) => `bytes = ${i}`, ' OR '))),
    },
    {
      name: 'attack-2000-or',
      probes: 'refused: SQL_MAX_BOOLEAN_TERMS',
      text: spec(where(repeat(2_000, (i) => `bytes = ${i}`, ' OR '))),
    },
    {
      name: 'attack-keys',
      probes: 'refused: SPEC_MAX_TOKENS',
      text: repeat(20_000, (i) => `k${i}: 1`, '\n'),
    },
    {
      name: 'attack-billion-laughs',
      probes: 'refused: aliases',
      text: `a: &a [x, x, x, x, x, x, x, x, x, x]\n${repeat(9, (i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${repeat(10, () => `*${String.fromCharCode(97 + i)}`, ', ')}]`, '\n')}\n`,
    },
  ];
}
