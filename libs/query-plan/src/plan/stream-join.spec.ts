import { describe, expect, it } from 'vitest';
import { checkUpgrade, compileSpec, instantiate, type CompileResult, type Row } from '../index';
import type { JoinStore } from '../runtime/stream-join';

// SQL starts on line 12, column 3.
const SQL_LINE = 12;
function spec(sql: string, o: { watermarks?: [boolean, boolean]; outputMode?: string } = {}): string {
  const [wl, wr] = o.watermarks ?? [true, true];
  return [
    'name: q',
    'sources:',
    '  impressions:',
    '    kafka: { topic: impressions }',
    '    schema: { ad_id: long, ts: timestamp }',
    wl ? '    watermark: { column: ts, delay: 10 seconds }' : '    # no watermark',
    '  clicks:',
    '    kafka: { topic: clicks }',
    '    schema: { ad_id: long, ts: timestamp, user: string }',
    wr ? '    watermark: { column: ts, delay: 20 seconds }' : '    # no watermark',
    'sql: |',
    ...sql.split('\n').map((l) => `  ${l}`),
    'sink: { console: {} }',
    `outputMode: ${o.outputMode ?? 'append'}`,
    '',
  ].join('\n');
}
const JOIN = `SELECT i.ad_id, i.ts AS shown, c.ts AS clicked, c.user
FROM impressions i LEFT OUTER JOIN clicks c
ON i.ad_id = c.ad_id AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '1 hour'`;

function compiled(text: string): Extract<CompileResult, { ok: true }> {
  const r = compileSpec(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r;
}
function errors(text: string): Array<[number, number, string]> {
  const r = compileSpec(text);
  if (r.ok) throw new Error('expected errors');
  return r.errors.map((e) => [e.line, e.column, e.message.replace(/ \(SQL line.*$/, '')]);
}

describe('stream–stream join: compile', () => {
  it('plans two scans and a join with its time range and state schema', () => {
    const r = compiled(spec(JOIN));
    expect(r.plan.kind).toBe('join');
    expect(r.plan.sourceTopics).toEqual(['impressions', 'clicks']);
    expect(r.plan.operators.map((o) => o.op)).toEqual(['scan', 'scan', 'streamJoin', 'project']);
    expect(r.plan.operators[2]).toMatchObject({
      joinType: 'leftOuter',
      left: 'impressions',
      right: 'clicks',
      timeRange: { leftColumn: 'ts', rightColumn: 'clicks.ts', lowerMs: 0, upperMs: 3_600_000 },
      stateSchema: {
        key: [
          { name: 'side', type: 'string' },
          { name: 'key0', type: 'long' },
        ],
      },
    });
    expect(r.plan.output.map((c) => c.name)).toEqual(['ad_id', 'shown', 'clicked', 'user']);
  });

  it('takes the time range from >= / <= pairs and mysql-style intervals too', () => {
    const r = compiled(
      spec(
        'SELECT i.ad_id FROM impressions i JOIN clicks c\nON c.ad_id = i.ad_id AND i.ts - INTERVAL 5 MINUTE <= c.ts AND c.ts < i.ts + INTERVAL 2 HOUR',
      ),
    );
    expect(r.plan.operators[2]).toMatchObject({
      joinType: 'inner',
      timeRange: { lowerMs: -300_000, upperMs: 7_200_000 },
    });
  });

  it('refuses a join without watermarks, at the JOIN, naming the sources', () => {
    expect(errors(spec(JOIN, { watermarks: [true, false] }))).toEqual([
      [
        SQL_LINE + 1,
        38,
        "a stream–stream join needs a watermark on both sources (sources.clicks.watermark missing): without one, neither side's state could ever be evicted",
      ],
    ]);
  });

  it('refuses a join without a time-range condition (or with one bound), at ON', () => {
    const [e] = errors(spec('SELECT i.ad_id FROM impressions i JOIN clicks c\nON i.ad_id = c.ad_id'));
    expect(e?.slice(0, 2)).toEqual([SQL_LINE + 1, 6]);
    expect(e?.[2]).toMatch(
      /^a stream–stream join needs a time-range condition bounding c\.ts on both sides relative to i\.ts \(no lower bound\)/,
    );
    expect(
      errors(
        spec('SELECT i.ad_id FROM impressions i JOIN clicks c\nON i.ad_id = c.ad_id AND c.ts >= i.ts'),
      )[0]?.[2],
    ).toMatch(/\(no upper bound\)/);
  });

  it('refuses right/full outer joins, aggregation after the join and other output modes', () => {
    expect(errors(spec(JOIN.replace('LEFT OUTER', 'FULL OUTER')))[0]?.[2]).toMatch(
      /^FULL JOIN is not supported in a stream–stream join/,
    );
    expect(
      errors(
        spec(
          `SELECT i.ad_id, count(*) AS n\nFROM impressions i JOIN clicks c\nON i.ad_id = c.ad_id AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '1 hour'\nGROUP BY i.ad_id`,
        ),
      )[0]?.[2],
    ).toMatch(/^aggregation and deduplication after a stream–stream join are not supported yet/);
    const r = compileSpec(spec(JOIN, { outputMode: 'update' }));
    expect(r.ok ? [] : r.errors.map((e) => [e.path, e.message])).toEqual([
      [
        'outputMode',
        'a stream–stream join emits each joined row once: outputMode must be append (got update), as in Spark',
      ],
    ]);
  });

  it('a changed join type is incompatible (the state holds the old join)', () => {
    const report = checkUpgrade(
      compiled(spec(JOIN)),
      compiled(spec(JOIN.replace('LEFT OUTER JOIN', 'JOIN'))),
    );
    expect(report.compatible).toBe(false);
    expect(report.changes).toContainEqual(
      expect.objectContaining({ kind: 'join.type', severity: 'incompatible' }),
    );
  });
});

class MapStore implements JoinStore {
  readonly map = new Map<string, unknown>();
  get(k: string) {
    return this.map.has(k) ? JSON.parse(JSON.stringify(this.map.get(k))) : undefined;
  }
  put(k: string, v: never) {
    this.map.set(k, JSON.parse(JSON.stringify(v)));
  }
  remove(k: string) {
    return this.map.delete(k);
  }
  entries() {
    return this.map.entries();
  }
}

describe('stream–stream join: state and eviction', () => {
  const T = Date.UTC(2026, 0, 1);
  const min = (n: number) => T + n * 60_000;
  const setup = (sql = JOIN) => {
    const executor = instantiate(compiled(spec(sql)).plan);
    const join = executor.streamJoin!;
    const store = new MapStore();
    const batch = (inputs: Array<['l' | 'r', Row]>, watermarkMs: number) => {
      const res = join.processBatch(
        store,
        inputs.map(([side, row]) => ({ side, row: join.prepare(side, row) })),
        watermarkMs,
      );
      return { ...res, out: res.rows.filter(executor.filter).map(executor.project) };
    };
    return { batch, store };
  };
  const imp = (ad_id: number, at: number): ['l', Row] => ['l', { ad_id, ts: min(at) }];
  const click = (ad_id: number, at: number, user = 'u'): ['r', Row] => ['r', { ad_id, ts: min(at), user }];

  it('joins rows arriving in either order within the time range, and only within it', () => {
    const { batch } = setup();
    expect(batch([click(1, 10, 'early'), imp(1, 5), imp(2, 0)], 0).out).toEqual([
      { ad_id: 1, shown: min(5), clicked: min(10), user: 'early' },
    ]);
    // ad 2: a click 2 hours later is outside the range; one 30 minutes later matches.
    expect(batch([click(2, 120), click(2, 30, 'x')], 0).out).toEqual([
      { ad_id: 2, shown: min(0), clicked: min(30), user: 'x' },
    ]);
  });

  it('left outer: an unmatched left row is emitted with NULLs once the watermark passes its range, and state is evicted', () => {
    const { batch, store } = setup();
    expect(batch([imp(1, 0), imp(2, 0), click(1, 20)], 0).out).toHaveLength(1);
    expect(store.map.size).toBe(3); // l:[1], l:[2], r:[1]
    // Watermark at 0:59: ad 2 could still be clicked until 1:00 — nothing evicted on the left.
    // (The click at 0:20 can only match impressions ≥ 0:20 - 1h, but the watermark is at 0:59, so it goes.)
    const mid = batch([], min(59));
    expect(mid.out).toEqual([]);
    expect(mid.numRowsRemoved).toBe(1);
    // Watermark past 1:00: both impressions go; ad 2 never matched, so it is emitted with NULLs.
    const end = batch([], min(61));
    expect(end.out).toEqual([{ ad_id: 2, shown: min(0), clicked: null, user: null }]);
    expect(end.numRowsRemoved).toBe(2);
    expect(store.map.size).toBe(0);
  });

  it('drops rows behind the watermark and rows without event time', () => {
    const { batch } = setup();
    const res = batch([imp(1, 0), ['r', { ad_id: 1, ts: null, user: 'u' }]], min(10));
    expect(res.numRowsDroppedByWatermark).toBe(2);
    expect(res.out).toEqual([]);
    expect(res.maxEventTimeMs).toEqual({ l: min(0) });
  });

  it('inner join: an unmatched row is never emitted; NULL keys match nothing', () => {
    const { batch, store } = setup(JOIN.replace('LEFT OUTER JOIN', 'JOIN'));
    expect(batch([['l', { ad_id: null, ts: min(0) }], imp(3, 0), click(4, 1)], 0).out).toEqual([]);
    expect(store.map.size).toBe(2); // the NULL-key row is not kept
    expect(batch([], min(200)).out).toEqual([]);
    expect(store.map.size).toBe(0);
  });
});
