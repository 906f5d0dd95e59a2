import { describe, expect, it } from 'vitest';
import { checkUpgrade, compileSpec, instantiate, type CompileResult, type Row } from '../index';

// SQL starts on line 13, column 3 of these specs.
const SQL_LINE = 13;
function spec(sql: string, extra = ''): string {
  return [
    'name: q',
    'sources:',
    '  orders:',
    '    kafka: { topic: orders }',
    '    schema: { order_id: long, customer_id: long, amount: double, name: string, ts: timestamp }',
    'tables:',
    '  customers:',
    '    table: public.customers',
    '    connection: crm',
    '    schema: { id: long, name: string, tier: string }',
    `    refresh: 1 minute${extra}`,
    'sql: |',
    ...sql.split('\n').map((l) => `  ${l}`),
    'sink: { console: {} }',
    'outputMode: append',
    '',
  ].join('\n');
}
const compile = (sql: string, extra = ''): CompileResult => compileSpec(spec(sql, extra));
function ok(sql: string): Extract<CompileResult, { ok: true }> {
  const r = compile(sql);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r;
}
function errors(sql: string, extra = ''): Array<[number, number, string]> {
  const r = compile(sql, extra);
  if (r.ok) throw new Error('expected errors');
  return r.errors.map((e) => [e.line, e.column, e.message.replace(/ \(SQL line.*$/, '')]);
}

describe('stream–static join: compile', () => {
  it('normalises the table spec with its defaults and caps', () => {
    const r = ok('SELECT o.order_id, c.tier FROM orders o JOIN customers c ON o.customer_id = c.id');
    expect(r.spec.tables?.customers).toEqual({
      table: 'public.customers',
      connection: 'crm',
      schema: { id: 'long', name: 'string', tier: 'string' },
      refreshMs: 60_000,
      maxRows: 100_000,
      maxBytes: 64 * 1024 * 1024,
    });
  });

  it('puts a join operator after the scan and names table columns as in the table', () => {
    const r = ok(
      "SELECT o.order_id, c.tier, c.name AS customer FROM orders o LEFT OUTER JOIN customers c\nON c.id = o.customer_id AND c.tier <> 'banned'\nWHERE o.amount > 10",
    );
    expect(r.plan.operators.map((o) => o.op)).toEqual(['scan', 'staticJoin', 'filter', 'project']);
    const join = r.plan.operators[1];
    expect(join).toMatchObject({
      op: 'staticJoin',
      joinType: 'leftOuter',
      table: 'customers',
      tableKeys: ['id'],
      streamKeys: [{ kind: 'column', name: 'customer_id' }],
    });
    expect(join && 'residual' in join && join.residual).toBeTruthy();
    expect(r.plan.output).toEqual([
      { name: 'order_id', type: 'long' },
      { name: 'tier', type: 'string' },
      { name: 'customer', type: 'string' },
    ]);
  });

  it('expands * to both sides and t.* to the table', () => {
    expect(
      ok('SELECT c.* FROM orders o JOIN customers c ON o.customer_id = c.id').plan.output.map((c) => c.name),
    ).toEqual(['id', 'name', 'tier']);
    // Both sides have "name": SELECT * gives a duplicate output column, refused.
    expect(errors('SELECT * FROM orders o JOIN customers c ON o.customer_id = c.id')[0]?.[2]).toMatch(
      /duplicate output column "name"/,
    );
  });

  it('refuses an ambiguous bare column, naming both sides', () => {
    expect(errors('SELECT name FROM orders o JOIN customers c ON o.customer_id = c.id')).toEqual([
      [SQL_LINE, 10, 'column "name" is ambiguous: both "o" and "c" have it; qualify it'],
    ]);
  });

  it('refuses an unknown table with its position', () => {
    expect(errors('SELECT o.order_id\nFROM orders o JOIN accounts a ON o.customer_id = a.id')).toEqual([
      [SQL_LINE + 1, 22, 'unknown table "accounts" (tables: customers; sources: orders)'],
    ]);
  });

  it('refuses right and full outer joins (Spark refuses them with a static right side)', () => {
    for (const kind of ['RIGHT JOIN', 'FULL OUTER JOIN']) {
      const [e] = errors(`SELECT o.order_id FROM orders o ${kind} customers c ON o.customer_id = c.id`);
      expect(e?.[0]).toBe(SQL_LINE);
      expect(e?.[2]).toMatch(
        /is not supported in a stream–static join: use JOIN \(inner\) or LEFT OUTER JOIN/,
      );
    }
  });

  it('refuses a join key type mismatch at the ON condition', () => {
    expect(errors('SELECT o.order_id FROM orders o JOIN customers c\nON o.name = c.id')).toEqual([
      [SQL_LINE + 1, 6, 'join key type mismatch: the stream side is string, "c.id" is long; CAST one side'],
    ]);
  });

  it('refuses an ON without an equality between the sides', () => {
    expect(errors("SELECT o.order_id FROM orders o JOIN customers c ON c.tier = 'gold'")[0]?.[2]).toMatch(
      /^ON needs an equality between a stream column and a column of "c"/,
    );
  });

  it('refuses a comma join, a second join and an undeclared stream as a table', () => {
    expect(errors('SELECT 1 FROM orders o, customers c')[0]?.[2]).toMatch(/comma joins/);
    expect(
      errors(
        'SELECT o.order_id FROM orders o JOIN customers c ON o.customer_id = c.id JOIN customers d ON o.customer_id = d.id',
      )[0]?.[2],
    ).toBe('a query joins at most two inputs (one JOIN)');
  });

  it('refuses a refresh below the minimum and caps above the maxima, at their spec lines', () => {
    const r = compileSpec(
      spec('SELECT 1 FROM orders').replace('refresh: 1 minute', 'refresh: 10ms\n    maxRows: 5000000'),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.path, e.line])).toEqual([
      ['tables.customers.refresh', 11],
      ['tables.customers.maxRows', 12],
    ]);
  });
});

describe('stream–static join: executor', () => {
  const table: Row[] = [
    { id: 1, name: 'Ada', tier: 'gold' },
    { id: 2, name: 'Bob', tier: 'banned' },
    { id: 2, name: 'Bob2', tier: 'silver' }, // a key may match several rows
    { id: null, name: 'nobody', tier: 'x' },
  ];
  const order = (order_id: number, customer_id: number | null): Row => ({
    order_id,
    customer_id,
    amount: 20,
    name: 'n',
    ts: 0,
  });
  const run = (sql: string, rows: Row[]): Row[] => {
    const executor = instantiate(ok(sql).plan);
    const join = executor.staticJoin!;
    const index = join.index(table);
    return rows
      .flatMap((row) => join.join(row, index))
      .filter(executor.filter)
      .map(executor.project);
  };

  it('inner: one row per match, no row without one, NULL keys never match', () => {
    expect(
      run(
        "SELECT o.order_id, c.name FROM orders o JOIN customers c ON o.customer_id = c.id AND c.tier <> 'banned'",
        [order(10, 1), order(11, 2), order(12, 3), order(13, null)],
      ),
    ).toEqual([
      { order_id: 10, name: 'Ada' },
      { order_id: 11, name: 'Bob2' },
    ]);
  });

  it('left outer: the stream row with NULL table columns when nothing matches', () => {
    expect(
      run('SELECT o.order_id, c.tier FROM orders o LEFT JOIN customers c ON o.customer_id = c.id', [
        order(10, 1),
        order(12, 3),
        order(13, null),
      ]),
    ).toEqual([
      { order_id: 10, tier: 'gold' },
      { order_id: 12, tier: null },
      { order_id: 13, tier: null },
    ]);
  });

  it('a WHERE on table columns applies after the join', () => {
    expect(
      run(
        "SELECT o.order_id FROM orders o LEFT JOIN customers c ON o.customer_id = c.id WHERE c.tier = 'gold'",
        [order(10, 1), order(11, 2), order(12, 3)],
      ),
    ).toEqual([{ order_id: 10 }]);
  });

  it('refuses a table value of the wrong type when indexing, naming table and column', () => {
    const join = instantiate(
      ok('SELECT o.order_id FROM orders o JOIN customers c ON o.customer_id = c.id').plan,
    ).staticJoin!;
    expect(() => join.index([{ id: 'one', name: 'x', tier: 'y' }])).toThrow(
      'table "customers": column "id" holds "one", expected an integer',
    );
  });
});

describe('stream–static join: upgrades', () => {
  const compiled = (sql: string, text = spec(sql)) => {
    const r = compileSpec(text);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r;
  };
  const base = 'SELECT o.order_id, c.tier FROM orders o JOIN customers c ON o.customer_id = c.id';

  it('a renamed PostgreSQL table is allowed with a caveat', () => {
    const report = checkUpgrade(
      compiled(base),
      compiled(base, spec(base).replace('public.customers', 'public.customers_v2')),
    );
    expect(report.compatible).toBe(true);
    expect(report.changes).toContainEqual(
      expect.objectContaining({ kind: 'join.table', severity: 'caveat', path: 'tables.customers.table' }),
    );
  });

  it('a join type change is allowed when nothing stateful follows, incompatible when it does', () => {
    const left = base.replace(' JOIN', ' LEFT JOIN');
    const stateless = checkUpgrade(compiled(base), compiled(left));
    expect(stateless.changes).toContainEqual(
      expect.objectContaining({ kind: 'join.type', severity: 'allowed' }),
    );
    const agg = (sql: string) => compiled(sql, spec(sql).replace('outputMode: append', 'outputMode: update'));
    const count = (join: string) =>
      `SELECT c.tier, count(*) AS n FROM orders o ${join} customers c ON o.customer_id = c.id GROUP BY c.tier`;
    const stateful = checkUpgrade(agg(count('JOIN')), agg(count('LEFT JOIN')));
    expect(stateful.compatible).toBe(false);
    expect(stateful.changes).toContainEqual(
      expect.objectContaining({ kind: 'join.type', severity: 'incompatible' }),
    );
  });
});
