// Worst-case spec texts for compileSpec: each is as expensive as the limits allow for one shape of
// input (the largest instance no limit refuses), plus the attacks of the hardening issue, which
// must be refused cheaply. "No limit refuses" is decided by the library itself.
import { compileSpec } from '../../libs/query-plan/src/index';
import { SPEC_MAX_ALIASES, SPEC_MAX_DEPTH, SQL_MAX_DEPTH } from '../../libs/query-plan/src/limits';
import { checkSqlLimits } from '../../libs/query-plan/src/sql/sql-limits';

export interface BenchCase {
  name: string;
  /** The limit(s) the case pushes against, and how. */
  probes: string;
  text: string;
}

const SCHEMA = 'user_id: string, url: string, ts: timestamp, bytes: long, ok: boolean';

/** A valid stateless spec around `sql` (one line), with `extra` YAML at the end. */
function spec(sql: string, extra = '', schema = SCHEMA): string {
  return [
    'name: bench',
    'sources:',
    '  clicks:',
    '    kafka: { topic: clicks, startingOffsets: earliest }',
    '    format: json',
    `    schema: { ${schema} }`,
    'sql: |',
    `  ${sql}`,
    'sink: { console: {} }',
    'outputMode: append',
    extra,
  ].join('\n');
}

const where = (condition: string): string => `SELECT user_id, bytes FROM clicks WHERE ${condition}`;
const repeat = (n: number, item: (i: number) => string, separator: string): string =>
  Array.from({ length: n }, (_, i) => item(i)).join(separator);
const nested = (depth: number, inner: string, open = '(', close = ')'): string =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/** No input limit refuses the spec (it may still fail for other reasons). */
const withinLimits = (text: string): boolean => {
  const result = compileSpec(text);
  return result.ok || !result.errors.some((e) => /\(limits? (SPEC|SQL)_/.test(e.message));
};
const sqlWithinLimits = (sql: string): boolean => checkSqlLimits(sql) === undefined;

/** make(n) for the largest n that `fits` (fits must hold for 1 and turn false for good as n grows). */
function largest(make: (n: number) => string, fits: (text: string) => boolean): string {
  let lo = 1;
  let hi = 2;
  while (fits(make(hi))) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(make(mid))) lo = mid;
    else hi = mid;
  }
  return make(lo);
}

const largestSpec = (make: (n: number) => string): string => largest(make, withinLimits);
const largestSql = (make: (n: number) => string): string => largest(make, sqlWithinLimits);

export function worstCases(): BenchCase[] {
  return [
    {
      name: 'spec-bytes',
      probes: 'SPEC_MAX_BYTES + SQL_MAX_LENGTH: the largest spec, its SQL one long string literal',
      text: largestSpec((n) => spec(where(`url = '${'x'.repeat(n)}'`))),
    },
    {
      name: 'spec-wide-schema',
      probes: 'SPEC_MAX_TOKENS: a schema as wide as the tokens allow (compiles)',
      text: largestSpec((n) =>
        spec(where('bytes > 1'), '', `${SCHEMA}, ${repeat(n, (i) => `c${i}: long`, ', ')}`),
      ),
    },
    {
      name: 'spec-flow-seq',
      probes: 'SPEC_MAX_TOKENS: one-character items, the densest tokens ([1,1,1,…])',
      text: largestSpec((n) => spec(where('bytes > 1'), `padding: [${repeat(n, () => '1', ',')}]`)),
    },
    {
      name: 'spec-keys',
      probes:
        'SPEC_MAX_TOKENS: one mapping with as many keys as tokens allow (yaml checks them quadratically)',
      text: largestSpec((n) => spec(where('bytes > 1'), `options: {${repeat(n, (i) => `k${i}: 1`, ', ')}}`)),
    },
    {
      name: 'spec-depth',
      probes: 'SPEC_MAX_DEPTH: nesting at the limit, repeated up to the token limit',
      text: largestSpec((n) =>
        spec(
          where('bytes > 1'),
          `padding: [${repeat(n, () => nested(SPEC_MAX_DEPTH - 2, '1', '[', ']'), ', ')}]`,
        ),
      ),
    },
    {
      name: 'spec-aliases',
      probes:
        'SPEC_MAX_ALIASES + SPEC_MAX_VALUES: every alias to an anchor as large as the value budget allows',
      text: largestSpec(aliasSpec),
    },
    {
      name: 'sql-or',
      probes: 'SQL_MAX_BOOLEAN_TERMS: as many ORs as allowed (a tree that deep after parsing)',
      text: spec(largestSql((n) => where(repeat(n, () => 'ok', ' OR ')))),
    },
    {
      name: 'sql-and-or',
      probes: 'SQL_MAX_BOOLEAN_TERMS: AND/OR of comparisons, as many as allowed',
      text: spec(largestSql((n) => where(repeat(n, (i) => `bytes > ${i} AND url <> 'u${i}'`, ' OR ')))),
    },
    {
      name: 'sql-depth',
      probes: 'SQL_MAX_DEPTH: parentheses at the limit, repeated up to the token limit',
      text: spec(
        largestSql((n) => where(repeat(n, (i) => `${nested(SQL_MAX_DEPTH - 1, 'bytes')} = ${i}`, ' OR '))),
      ),
    },
    {
      name: 'sql-case',
      probes: 'SQL_MAX_DEPTH: CASE nested to the limit',
      text: spec(where(nested(SQL_MAX_DEPTH - 1, 'true', 'CASE WHEN ok THEN ', ' ELSE false END'))),
    },
    {
      name: 'sql-not-chain',
      probes: 'SQL_MAX_DEPTH: NOT NOT … (nesting without parentheses)',
      text: spec(largestSql((n) => where(`${'NOT '.repeat(n)}ok`))),
    },
    {
      name: 'sql-negate-chains',
      probes: 'SQL_MAX_DEPTH + SQL_MAX_TOKENS: - - - … 1 at the depth limit, repeated up to the token limit',
      text: spec(
        largestSql((n) => where(`bytes = ${repeat(n, () => `${'- '.repeat(SQL_MAX_DEPTH - 1)}1`, ' + ')}`)),
      ),
    },
    {
      name: 'sql-in-list',
      probes: 'SQL_MAX_TOKENS: an IN list as long as the tokens allow',
      text: spec(largestSql((n) => where(`bytes IN (${repeat(n, (i) => `${i}`, ', ')})`))),
    },
    {
      name: 'sql-arithmetic',
      probes: 'SQL_MAX_TOKENS: one arithmetic chain (a left-deep tree as deep as the tokens allow)',
      text: spec(largestSql((n) => where(`bytes = ${repeat(n, (i) => `${i}`, ' + ')}`))),
    },
    {
      name: 'sql-error-per-column',
      probes: 'SQL_MAX_TOKENS + MAX_REPORTED_ERRORS: SELECT items, each an error',
      text: spec(largestSql((n) => `SELECT ${repeat(n, (i) => `nope${i}`, ', ')} FROM clicks`)),
    },
    {
      name: 'sql-length',
      probes: 'SQL_MAX_LENGTH: the longest SQL, mostly a comment',
      text: largestSpec((n) => spec(`${where('bytes > 1')} /* ${'x'.repeat(n)} */`)),
    },
  ];
}

/** An anchored source with n columns, aliased as every further source the alias limit allows. */
function aliasSpec(columns: number): string {
  const sources = repeat(SPEC_MAX_ALIASES, (i) => `  s${i}: *src`, '\n');
  return [
    'name: bench',
    'sources:',
    '  clicks: &src',
    '    kafka: { topic: clicks, startingOffsets: earliest }',
    '    format: json',
    `    schema: { ${SCHEMA}, ${repeat(columns, (i) => `c${i}: long`, ', ')} }`,
    sources,
    `sql: ${where('bytes > 1')}`,
    'sink: { console: {} }',
    'outputMode: append',
    '',
  ].join('\n');
}

/** Inputs over the limits, as sent by the attacker of the hardening issue: refused, and fast. */
export function attacks(): BenchCase[] {
  const laughs = 'abcdefghij';
  return [
    {
      name: 'attack-800kb-brackets',
      probes: 'refused: SPEC_MAX_BYTES',
      text: `name: x\nsources: ${nested(400_000, '', '[', ']')}`,
    },
    {
      name: 'attack-brackets-128kb',
      probes: 'refused: SPEC_MAX_DEPTH',
      text: `name: x\nsources: ${'['.repeat(130_000)}`,
    },
    {
      name: 'attack-20000-or',
      probes: 'refused: SPEC_MAX_BYTES (510 KB)',
      text: spec(where(repeat(20_000, (i) => `bytes = ${i}`, ' OR '))),
    },
    {
      name: 'attack-2000-or',
      probes: 'refused: SQL_MAX_TOKENS',
      text: spec(where(repeat(2_000, (i) => `bytes = ${i}`, ' OR '))),
    },
    {
      name: 'attack-15000-keys',
      probes: 'refused: SPEC_MAX_TOKENS',
      text: repeat(15_000, (i) => `k${i}: 1`, '\n'),
    },
    {
      name: 'attack-billion-laughs',
      probes: 'refused: aliases',
      text: [
        'a: &a [x, x, x, x, x, x, x, x, x, x]',
        ...[...laughs.slice(1)].map(
          (l, i) => `${l}: &${l} [${repeat(10, () => `*${laughs[i] ?? ''}`, ', ')}]`,
        ),
      ].join('\n'),
    },
  ];
}
