import { describe, expect, it } from 'vitest';
import { compileSpec, type CompileResult, type SpecError } from '../index';
import { querySpec, SQL_COLUMN, SQL_LINE, type SpecParts } from '../testing/spec-text';

function compile(parts: SpecParts): CompileResult {
  return compileSpec(querySpec(parts));
}

function errorsOf(parts: SpecParts): SpecError[] {
  const result = compile(parts);
  if (result.ok) throw new Error('expected the spec to be rejected');
  return result.errors;
}

function ok(parts: SpecParts): Extract<CompileResult, { ok: true }> {
  const result = compile(parts);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result;
}

/** Spec position of SQL line/column (both 1-based) in a querySpec block scalar. */
const at = (sqlLine: number, sqlColumn: number) => ({
  line: SQL_LINE + sqlLine - 1,
  column: SQL_COLUMN + sqlColumn - 1,
});

describe('SQL errors are positioned in the spec file', () => {
  it('reports a syntax error at the unexpected token', () => {
    const errors = errorsOf({ sql: 'SELECT user_id,\n  , url FROM clicks' });
    expect(errors).toEqual([
      { path: 'sql', ...at(2, 3), message: 'SQL syntax error: unexpected "," (SQL line 2, column 3)' },
    ]);
  });

  it('reports an unknown column, with the SQL position in the message', () => {
    const errors = errorsOf({ sql: 'SELECT user_id, usr\nFROM clicks' });
    expect(errors).toEqual([
      {
        path: 'sql',
        ...at(1, 17),
        message: 'unknown column "usr" (clicks has user_id, url, ts, bytes, ok) (SQL line 1, column 17)',
      },
    ]);
  });

  it('reports unknown tables and functions, and every error at once', () => {
    const errors = errorsOf({ sql: 'SELECT reverse(url), c.user_id FROM clicks\nWHERE nope > 1' });
    expect(errors.map((e) => [e.line, e.column, e.message.replace(/ \(SQL.*$/, '')])).toEqual([
      [at(1, 8).line, at(1, 8).column, expect.stringMatching(/^unknown function "reverse"/)],
      [at(1, 22).line, at(1, 22).column, 'unknown table "c" (the query reads "clicks")'],
      [at(2, 7).line, at(2, 7).column, expect.stringMatching(/^unknown column "nope"/)],
    ]);
    expect(errorsOf({ sql: 'SELECT a FROM views' })[0]?.message).toMatch(
      /^unknown table "views" \(sources: clicks\)/,
    );
  });

  it('rejects a column that is neither grouped nor aggregated', () => {
    const errors = errorsOf({
      sql: "SELECT user_id, url, count(*) AS n\nFROM clicks GROUP BY window(ts, '1 minute'), user_id",
    });
    expect(errors).toEqual([
      {
        path: 'sql',
        ...at(1, 17),
        message: expect.stringMatching(/^column "url" is neither in GROUP BY nor inside an aggregate/),
      },
    ]);
  });

  it('type-checks expressions', () => {
    expect(errorsOf({ sql: 'SELECT url + 1 FROM clicks' })[0]?.message).toMatch(
      /^operator \+ needs numbers, got string and int/,
    );
    expect(errorsOf({ sql: 'SELECT a FROM clicks WHERE bytes = url' }).length).toBeGreaterThan(0);
    expect(errorsOf({ sql: 'SELECT sum(url) FROM clicks' })[0]?.message).toMatch(/^sum\(\) needs a number/);
    expect(errorsOf({ sql: 'SELECT user_id FROM clicks WHERE bytes' })[0]?.message).toMatch(
      /^WHERE needs a boolean/,
    );
    expect(errorsOf({ sql: 'SELECT user_id FROM clicks WHERE count(*) > 1' })[0]?.message).toMatch(
      /^aggregate functions are not allowed in WHERE/,
    );
  });

  it('rejects clauses a streaming query cannot run', () => {
    const messages = (sql: string) => errorsOf({ sql }).map((e) => e.message);
    expect(messages('SELECT user_id, count(*) FROM clicks GROUP BY user_id HAVING count(*) > 1')[0]).toMatch(
      /^HAVING is not supported/,
    );
    expect(messages('SELECT user_id FROM clicks ORDER BY user_id')[0]).toMatch(/^ORDER BY/);
    expect(messages('SELECT user_id FROM clicks LIMIT 5')[0]).toMatch(/^LIMIT/);
    expect(messages('SELECT c.user_id FROM clicks c JOIN clicks d ON c.url = d.url')[0]).toMatch(
      /^"clicks" is joined with itself/,
    );
    expect(messages('SELECT window.start FROM clicks')[0]).toMatch(
      /^window.start \/ window.end need GROUP BY window/,
    );
    expect(messages('SELECT count(DISTINCT url) FROM clicks')[0]).toMatch(
      /^count\(DISTINCT …\) is not supported/,
    );
  });

  it('maps positions inside a JSON string with escaped newlines', () => {
    const json = JSON.stringify({
      name: 'q',
      sources: { s: { kafka: { topic: 't' }, schema: { a: 'string' } } },
      sql: 'SELECT a,\n  b FROM s',
      sink: { console: {} },
    });
    const result = compileSpec(json);
    const column = json.indexOf('b FROM') + 1;
    expect(result.ok ? [] : result.errors).toEqual([
      { path: 'sql', line: 1, column, message: 'unknown column "b" (s has a) (SQL line 2, column 3)' },
    ]);
  });

  it.each([
    ['a folded block', 'sql: >\n  SELECT a,\n    nope\n  FROM s\n', { line: 5, column: 5 }],
    ['a double-quoted string', 'sql: "SELECT a,\\n nope FROM s"\n', { line: 3, column: 19 }],
    [
      'a multi-line single-quoted string',
      "sql: 'SELECT a, ''x'' AS q,\n  nope FROM s'\n",
      { line: 4, column: 3 },
    ],
  ])('maps positions inside %s', (_style, sqlYaml, position) => {
    const result = compileSpec(
      `name: q\nsources: { s: { kafka: { topic: t }, schema: { a: string } } }\n${sqlYaml}sink: { console: {} }\n`,
    );
    expect(result.ok ? [] : result.errors).toEqual([
      expect.objectContaining({
        path: 'sql',
        ...position,
        message: expect.stringMatching(/^unknown column "nope"/),
      }),
    ]);
  });

  it('keeps positions exact after a Spark CAST type name', () => {
    const errors = errorsOf({
      sql: 'SELECT CAST(bytes AS STRING) AS b, CAST(ts AS LONG) AS t, nope FROM clicks',
    });
    expect(errors[0]).toMatchObject(at(1, 59));
  });

  it('reports sink key columns missing from the output at the key', () => {
    const errors = errorsOf({
      sql: 'SELECT user_id, url FROM clicks',
      sink: '{ postgres: { table: out, key: [user_id, ts] } }',
    });
    expect(errors).toEqual([
      {
        path: 'sink.postgres.key[1]',
        line: SQL_LINE + 1,
        column: 48,
        message: 'key column "ts" is not an output column of the query (user_id, url)',
      },
    ]);
  });
});

describe('output-mode rules (Spark UnsupportedOperationChecker)', () => {
  const windowed =
    "SELECT window.start AS ws, user_id, count(*) AS n FROM clicks GROUP BY window(ts, '1 minute'), user_id";
  const plainGroup = 'SELECT user_id, count(*) AS n FROM clicks GROUP BY user_id';
  const stateless = 'SELECT user_id, upper(url) AS u FROM clicks';
  const distinct = 'SELECT DISTINCT user_id, url FROM clicks';

  it.each([
    [stateless, 'append', true, true],
    [stateless, 'update', true, true],
    [stateless, 'complete', true, false],
    [distinct, 'append', true, true],
    [distinct, 'complete', true, false],
    [windowed, 'append', true, true],
    [windowed, 'append', false, false],
    [windowed, 'update', false, true],
    [windowed, 'complete', false, true],
    [plainGroup, 'append', true, false],
    [plainGroup, 'update', true, true],
    [plainGroup, 'complete', true, true],
    ['SELECT ts, count(*) AS n FROM clicks GROUP BY ts', 'append', true, true],
  ])('%s in %s mode (watermark: %s) → allowed: %s', (sql, outputMode, watermark, allowed) => {
    const result = compile({ sql, outputMode, watermark });
    expect(result.ok).toBe(allowed);
    if (!result.ok)
      expect(result.errors).toEqual([
        expect.objectContaining({ path: 'outputMode', line: SQL_LINE + 2, column: 13 }),
      ]);
  });

  it('warns about state that is never evicted', () => {
    expect(ok({ sql: distinct, watermark: false }).warnings).toEqual([
      expect.stringMatching(/^deduplication without a watermark/),
    ]);
    expect(ok({ sql: plainGroup }).warnings).toEqual([
      expect.stringMatching(/^the aggregation state grows without bound/),
    ]);
    expect(ok({ sql: windowed }).warnings).toEqual([]);
  });
});

describe('query shapes', () => {
  it('compiles SELECT DISTINCT into a dedupe operator with a watermark expiry', () => {
    const { plan } = ok({ sql: 'SELECT DISTINCT user_id, lower(url) AS u FROM clicks' });
    expect(plan.kind).toBe('dedupe');
    expect(plan.operators.find((op) => op.op === 'dedupe')).toMatchObject({
      keys: [{ name: 'user_id' }, { name: 'u' }],
      expiry: { eventTimeColumn: 'ts', delayMs: 10_000 },
    });
  });

  it('compiles options.dedupe over source columns', () => {
    const { plan } = ok({
      sql: 'SELECT user_id, url FROM clicks',
      options: '{ dedupe: { columns: [user_id, ts] } }',
    });
    expect(plan.kind).toBe('dedupe');
    const errors = errorsOf({
      sql: 'SELECT user_id FROM clicks',
      options: '{ dedupe: { columns: [user_id, nope] } }',
    });
    expect(errors).toEqual([
      {
        path: 'options.dedupe.columns[1]',
        line: SQL_LINE + 3,
        column: 41,
        message: 'unknown column "nope" in the query\'s source',
      },
    ]);
  });

  it('expands *, names unaliased expressions like Spark and rejects duplicates', () => {
    expect(ok({ sql: 'SELECT * FROM clicks' }).plan.output.map((c) => c.name)).toEqual([
      'user_id',
      'url',
      'ts',
      'bytes',
      'ok',
    ]);
    const { plan } = ok({
      sql: "SELECT lower(url), max(bytes), window.end FROM clicks GROUP BY window(ts, '10 minutes', '5 minutes'), lower(url)",
    });
    expect(plan.output).toEqual([
      { name: 'lower(url)', type: 'string' },
      { name: 'max(bytes)', type: 'long' },
      { name: 'end', type: 'timestamp' },
    ]);
    expect(plan.operators.find((op) => op.op === 'aggregate')).toMatchObject({
      window: { sizeMs: 600_000, slideMs: 300_000 },
      keys: [{ name: '$k0' }],
    });
    expect(errorsOf({ sql: 'SELECT url, user_id AS url FROM clicks' })[0]?.message).toMatch(
      /^duplicate output column "url"/,
    );
  });

  it('types CAST, arithmetic and string functions', () => {
    const { plan } = ok({
      sql: "SELECT CAST(bytes AS STRING) AS s, bytes / 2 AS half, bytes * 2 AS twice, concat(user_id, '-', url) AS c, substring(url, 1, 3) AS p, url LIKE '/a%' AND NOT ok AS m, ts IS NULL AS n FROM clicks",
    });
    expect(plan.output.map((c) => c.type)).toEqual([
      'string',
      'double',
      'long',
      'string',
      'string',
      'boolean',
      'boolean',
    ]);
  });

  it('lets GROUP BY name a SELECT alias', () => {
    const { plan } = ok({ sql: 'SELECT lower(url) AS page, count(*) AS n FROM clicks GROUP BY page' });
    expect(plan.operators.find((op) => op.op === 'aggregate')).toMatchObject({
      keys: [{ name: '$k0', expr: { kind: 'call', fn: 'lower' } }],
    });
  });
});
