// session_window(ts, gap) at compile time: the plan it builds, its state schema, the errors it
// reports (positioned in the spec) and the upgrade rule on its gap.
import { describe, expect, it } from 'vitest';
import { checkUpgradeText, compileSpec, type AggregateOperator, type SpecError } from '../index';
import { querySpec, SQL_COLUMN, SQL_LINE, type SpecParts } from '../testing/spec-text';

const SESSIONS =
  "SELECT user_id, session_window.start AS s, session_window.end AS e, count(*) AS n, avg(bytes) AS b\nFROM clicks GROUP BY user_id, session_window(ts, '5 minutes')";

function errorsOf(parts: SpecParts): SpecError[] {
  const result = compileSpec(querySpec(parts));
  if (result.ok) throw new Error('expected the spec to be rejected');
  return result.errors;
}

const at = (sqlLine: number, sqlColumn: number) => ({
  line: SQL_LINE + sqlLine - 1,
  column: SQL_COLUMN + sqlColumn - 1,
});

describe('session_window compile', () => {
  it('builds an aggregate operator with the session spec and its state schema', () => {
    const result = compileSpec(querySpec({ sql: SESSIONS, outputMode: 'append' }));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const op = result.plan.operators.find((o) => o.op === 'aggregate') as AggregateOperator;
    expect(op.session).toEqual({ column: 'ts', gapMs: 300_000 });
    expect(op.window).toBeUndefined();
    expect(op.stateSchema).toEqual({
      key: [
        { name: 'session_window.start', type: 'timestamp' },
        { name: 'session_window.end', type: 'timestamp' },
        { name: 'user_id', type: 'string' },
      ],
      value: [
        { name: 'count(*)', type: 'long' },
        { name: 'avg(bytes)', type: 'struct<sum:double,count:long>' },
      ],
    });
    expect(result.plan.output.map((c) => `${c.name}:${c.type}`)).toEqual([
      'user_id:string',
      's:timestamp',
      'e:timestamp',
      'n:long',
      'b:double',
    ]);
  });

  it('refuses append mode without a watermark, at outputMode, as Spark does', () => {
    const errors = errorsOf({ sql: SESSIONS, outputMode: 'append', watermark: false });
    expect(errors).toEqual([
      expect.objectContaining({
        path: 'outputMode',
        line: SQL_LINE + 2 + 1,
        message: expect.stringMatching(
          /^append output mode with session_window\(ts, …\) needs a watermark on ts.*add sources\.clicks\.watermark on ts/,
        ),
      }),
    ]);
  });

  it('allows update mode without a watermark, with a warning about unbounded state', () => {
    const result = compileSpec(querySpec({ sql: SESSIONS, watermark: false }));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.warnings.join('\n')).toMatch(/grows without bound.*session_window/);
  });

  it('reports a bad gap, a non-timestamp column and a second window at their SQL positions', () => {
    const bad = (groupBy: string) =>
      errorsOf({ sql: `SELECT count(*) AS n\nFROM clicks GROUP BY ${groupBy}` }).map((e) => ({
        line: e.line,
        column: e.column,
        message: e.message.replace(/ \(SQL line.*$/, ''),
      }));
    // String literals carry no position in the parser's AST: the gap's errors point at the call.
    expect(bad("user_id, session_window(ts, '0 seconds')")).toEqual([
      { ...at(2, 31), message: "session_window gap must be a positive duration string such as '1 minute'" },
    ]);
    expect(bad('user_id, session_window(ts, 5)')).toEqual([
      {
        ...at(2, 31),
        message:
          "session_window() gap must be a constant duration string such as '5 minutes' (per-row gap expressions are not supported)",
      },
    ]);
    expect(bad("user_id, session_window(url, '5 minutes')")).toEqual([
      { ...at(2, 46), message: 'session_window() needs a timestamp column, "url" is string' },
    ]);
    expect(bad("session_window(ts, '5 minutes', 'x')")).toEqual([
      {
        ...at(2, 22),
        message:
          "session_window() takes a timestamp column and a gap duration, e.g. session_window(ts, '5 minutes')",
      },
    ]);
    expect(bad("window(ts, '1 minute'), session_window(ts, '5 minutes')")).toEqual([
      { ...at(2, 46), message: 'only one window(...) or session_window(...) per GROUP BY' },
    ]);
  });

  it('refuses session_window.start without GROUP BY session_window, and session_window() in SELECT', () => {
    const messages = (sql: string) => errorsOf({ sql }).map((e) => e.message.replace(/ \(SQL line.*$/, ''));
    expect(
      messages("SELECT session_window.start AS s, count(*) AS n FROM clicks GROUP BY window(ts, '1 minute')"),
    ).toEqual([
      "session_window.start / session_window.end need GROUP BY session_window(<timestamp column>, '<gap>')",
    ]);
    expect(
      messages("SELECT window.start AS s, count(*) AS n FROM clicks GROUP BY session_window(ts, '1 minute')"),
    ).toEqual(["window.start / window.end need GROUP BY window(<timestamp column>, '<size>')"]);
    expect(messages("SELECT session_window(ts, '1 minute') AS w FROM clicks")).toEqual([
      'session_window(...) belongs in GROUP BY; select session_window.start / session_window.end',
    ]);
    expect(
      messages(
        "SELECT session_window.middle AS m, count(*) AS n FROM clicks GROUP BY session_window(ts, '1 minute')",
      ),
    ).toEqual(['unknown session_window field "middle": use session_window.start or session_window.end']);
  });
});

describe('session_window upgrade rules', () => {
  const upgrade = (before: string, after: string) => {
    const result = checkUpgradeText(
      querySpec({ sql: before, outputMode: 'append' }),
      querySpec({ sql: after, outputMode: 'append' }),
    );
    if (!result.ok) throw new Error(JSON.stringify(result));
    return result.report;
  };

  it('a changed gap is incompatible, naming the operator and both gaps', () => {
    const r = upgrade(SESSIONS, SESSIONS.replace("'5 minutes'", "'10 minutes'"));
    expect(r.compatible).toBe(false);
    expect(r.changes).toEqual([
      expect.objectContaining({
        kind: 'aggregate.sessionGap',
        severity: 'incompatible',
        operator: 'aggregate',
        before: '300000 ms',
        after: '600000 ms',
      }),
    ]);
  });

  it('a tumbling window replaced by a session window is incompatible', () => {
    const windowed =
      "SELECT user_id, count(*) AS n, avg(bytes) AS b FROM clicks GROUP BY user_id, window(ts, '5 minutes')";
    const session =
      "SELECT user_id, count(*) AS n, avg(bytes) AS b FROM clicks GROUP BY user_id, session_window(ts, '5 minutes')";
    const r = upgrade(windowed, session);
    expect(r.compatible).toBe(false);
    expect(r.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'aggregate.window',
          before: 'window(ts, 300000 ms, 300000 ms)',
          after: 'session_window(ts, gap 300000 ms)',
        }),
      ]),
    );
  });

  it('the same session window with another projection is compatible', () => {
    const r = upgrade(SESSIONS, SESSIONS.replace('AS n,', 'AS clicks,'));
    expect(r.changes.filter((c) => c.severity === 'incompatible')).toEqual([]);
  });
});
