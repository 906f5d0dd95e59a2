import { describe, expect, it } from 'vitest';
import { compileSpec, decodeRecord, instantiate, type QueryExecutor, type Row } from '../index';
import { DESIGN_SPEC, querySpec, type SpecParts } from '../testing/spec-text';

function executorFor(text: string): QueryExecutor {
  const result = compileSpec(text);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return instantiate(result.plan);
}

const query = (parts: SpecParts): QueryExecutor => executorFor(querySpec(parts));
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const click = (user_id: string, url: string, secondsAfterT0: number, bytes = 100): Row => ({
  user_id,
  url,
  ts: T0 + secondsAfterT0 * 1000,
  bytes,
  ok: true,
});

/** Runs rows through filter → groups → update → finalize, as the engine does within one batch. */
function aggregate(executor: QueryExecutor, rows: Row[]): Row[] {
  const state = new Map<string, { values: Row; buffer: unknown }>();
  for (const row of rows) {
    if (!executor.filter(row)) continue;
    for (const group of executor.groups(row)) {
      const entry = state.get(group.key) ?? { values: group.values, buffer: executor.initBuffer() };
      entry.buffer = executor.update(entry.buffer, row);
      state.set(group.key, entry);
    }
  }
  return [...state.values()].map(({ values, buffer }) =>
    executor.finalize(values, JSON.parse(JSON.stringify(buffer)) as unknown),
  );
}

describe('tumbling window aggregation (the ARCHITECTURE.md query)', () => {
  const executor = executorFor(DESIGN_SPEC);

  it('describes its output', () => {
    expect(executor.kind).toBe('aggregate');
    expect(executor.output.map((c) => c.name)).toEqual(['window_start', 'user_id', 'clicks', 'bytes']);
  });

  it('counts and sums per minute and user, after the WHERE filter', () => {
    const rows = [
      click('a', '/product/1', 5, 10),
      click('a', '/product/2', 59, 20),
      click('a', '/home', 30, 999),
      click('b', '/product/1', 61, 5),
      click('a', '/product/3', 60, 1),
    ];
    expect(aggregate(executor, rows)).toEqual([
      { window_start: T0, user_id: 'a', clicks: 2, bytes: 30 },
      { window_start: T0 + 60_000, user_id: 'b', clicks: 1, bytes: 5 },
      { window_start: T0 + 60_000, user_id: 'a', clicks: 1, bytes: 1 },
    ]);
  });

  it('shuffles only the columns the aggregation reads, with the same result', () => {
    const row = click('a', '/product/1', 5, 10);
    // url feeds only the filter (stage 1), ok nothing: neither travels to stage 2.
    expect(executor.shuffleRow(row)).toEqual({ user_id: 'a', ts: row.ts, bytes: 10 });
    const rows = [
      click('a', '/product/1', 5, 10),
      click('a', '/product/2', 59, 20),
      click('b', '/product/1', 61, 5),
    ];
    const shuffled = (r: Row): Row => executor.shuffleRow(r);
    let buffer = executor.initBuffer();
    let viaShuffle = executor.initBuffer();
    for (const r of rows.slice(0, 2)) {
      buffer = executor.update(buffer, r);
      viaShuffle = executor.update(viaShuffle, shuffled(r));
      expect(executor.eventTimeMs(shuffled(r))).toBe(executor.eventTimeMs(r));
    }
    const values = executor.groups(rows[0]!)[0]!.values;
    expect(executor.finalize(values, viaShuffle)).toEqual(executor.finalize(values, buffer));
  });

  it('assigns one group per row, expiring at the window end, with a stable key', () => {
    const groups = executor.groups(click('a', '/product/1', 75));
    expect(groups).toEqual([
      {
        key: JSON.stringify([T0 + 60_000, 'a']),
        values: { 'window.start': T0 + 60_000, 'window.end': T0 + 120_000, user_id: 'a' },
        expiresAtMs: T0 + 120_000,
      },
    ]);
    expect(executor.groups(click('a', '/x', 61))[0]?.key).toBe(groups[0]?.key);
    expect(executor.groupValues(groups[0]!.key)).toEqual(groups[0]?.values);
  });

  it('drops rows without an event time from windows, and reads the event time', () => {
    expect(executor.groups({ ...click('a', '/product/1', 1), ts: null })).toEqual([]);
    expect(executor.eventTimeMs(click('a', '/', 3))).toBe(T0 + 3000);
  });

  it('works on decoded records', () => {
    const decoded = decodeRecord(
      {
        kafka: { topic: 'clicks', startingOffsets: 'earliest' },
        format: 'json',
        schema: { user_id: 'string', url: 'string', ts: 'timestamp', bytes: 'long' },
      },
      Buffer.from(
        JSON.stringify({ user_id: 'z', url: '/product/9', ts: new Date(T0).toISOString(), bytes: 7 }),
      ),
    );
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(aggregate(executor, [decoded.row])).toEqual([
      { window_start: T0, user_id: 'z', clicks: 1, bytes: 7 },
    ]);
  });
});

describe('sliding window aggregation', () => {
  const executor = query({
    sql: "SELECT window.start AS ws, window.end AS we, count(*) AS n, avg(bytes) AS mean, min(url) AS first, max(bytes) AS biggest\nFROM clicks GROUP BY window(ts, '10 minutes', '5 minutes')",
  });

  it('puts a row into every window that contains it', () => {
    const groups = executor.groups(click('a', '/', 7 * 60));
    expect(groups.map((g) => [g.values['window.start'], g.expiresAtMs])).toEqual([
      [T0, T0 + 600_000],
      [T0 + 300_000, T0 + 900_000],
    ]);
  });

  it('aggregates overlapping windows', () => {
    const rows = [click('a', '/b', 60, 10), click('b', '/a', 6 * 60, 30), click('c', '/c', 11 * 60, 50)];
    expect(aggregate(executor, rows)).toEqual([
      { ws: T0 - 300_000, we: T0 + 300_000, n: 1, mean: 10, first: '/b', biggest: 10 },
      { ws: T0, we: T0 + 600_000, n: 2, mean: 20, first: '/a', biggest: 30 },
      { ws: T0 + 300_000, we: T0 + 900_000, n: 2, mean: 40, first: '/a', biggest: 50 },
      { ws: T0 + 600_000, we: T0 + 1_200_000, n: 1, mean: 50, first: '/c', biggest: 50 },
    ]);
  });

  it('keeps JSON-serialisable buffers and leaves the previous buffer untouched', () => {
    const empty = executor.initBuffer();
    const one = executor.update(empty, click('a', '/', 1, 4));
    expect(empty).toEqual([0, [0, 0], null, null]);
    expect(one).toEqual([1, [4, 1], '/', 4]);
    expect(JSON.parse(JSON.stringify(one))).toEqual(one);
  });
});

describe('aggregation without a window', () => {
  it('groups by plain keys, skips NULLs in count(col)/sum, and never expires without a watermark', () => {
    const executor = query({
      sql: 'SELECT upper(user_id) AS u, count(url) AS urls, sum(bytes) AS total FROM clicks GROUP BY upper(user_id)',
      watermark: false,
    });
    const rows = [click('a', '/x', 1, 5), { ...click('a', '/y', 2), url: null, bytes: null }];
    expect(aggregate(executor, rows)).toEqual([{ u: 'A', urls: 1, total: 5 }]);
    expect(executor.groups(rows[0] ?? {})[0]).toEqual({ key: '["A"]', values: { $k0: 'A' } });
    expect(executor.groupValues('["A"]')).toEqual({ $k0: 'A' });
  });

  it('does not evict groups in complete mode', () => {
    const executor = query({
      sql: "SELECT window.start AS ws, count(*) AS n FROM clicks GROUP BY window(ts, '1 minute')",
      outputMode: 'complete',
    });
    expect(executor.groups(click('a', '/', 1))[0]?.expiresAtMs).toBeUndefined();
  });
});

describe('stateless filter and projection', () => {
  const executor = query({
    sql: "SELECT upper(user_id) AS u, concat(user_id, ':', url) AS c, substring(url, 2, 3) AS s, bytes * 2 + 1 AS b, bytes / 0 AS z, CAST(bytes AS STRING) AS bs, CAST(ts AS LONG) AS secs\nFROM clicks WHERE (url LIKE '/p\\_%' OR bytes > 1000) AND NOT user_id IN ('bot', 'crawler') AND ts >= '2026-01-01 12:00:00'",
  });

  it('filters with SQL semantics', () => {
    expect(executor.kind).toBe('stateless');
    expect(executor.filter(click('a', '/p_1', 1))).toBe(true);
    expect(executor.filter(click('a', '/px1', 1))).toBe(false);
    expect(executor.filter(click('a', '/home', 1, 5000))).toBe(true);
    expect(executor.filter(click('bot', '/p_1', 1))).toBe(false);
    expect(executor.filter(click('a', '/p_1', -1))).toBe(false);
    expect(executor.filter({ ...click('a', '/p_1', 1), user_id: null })).toBe(false); // NULL IN (…) is NULL
  });

  it('projects expressions with Spark semantics', () => {
    expect(executor.project(click('a', '/p_123', 1, 20))).toEqual({
      u: 'A',
      c: 'a:/p_123',
      s: 'p_1',
      b: 41,
      z: null,
      bs: '20',
      secs: T0 / 1000 + 1,
    });
    expect(executor.project({ ...click('a', '/p_1', 1), user_id: null })).toMatchObject({ u: null, c: null });
  });

  it('refuses aggregate-only calls', () => {
    expect(() => executor.groups(click('a', '/', 1))).toThrow(/does not apply to a stateless plan/);
    expect(executor.eventTimeMs(click('a', '/', 1))).toBe(T0 + 1000);
  });
});

describe('deduplication', () => {
  it('keys SELECT DISTINCT by the projected values', () => {
    const executor = query({ sql: 'SELECT DISTINCT lower(user_id) AS u, url FROM clicks' });
    expect(executor.kind).toBe('dedupe');
    expect(executor.dedupeKey(click('A', '/x', 1))).toBe(executor.dedupeKey(click('a', '/x', 99)));
    expect(executor.dedupeKey(click('a', '/y', 1))).not.toBe(executor.dedupeKey(click('a', '/x', 1)));
    expect(executor.project(click('A', '/x', 1))).toEqual({ u: 'a', url: '/x' });
    // Stage 2 projects the row again: it travels whole.
    const row = click('A', '/x', 1);
    expect(executor.shuffleRow(row)).toBe(row);
  });

  it('keys options.dedupe by source columns', () => {
    const executor = query({ sql: 'SELECT url FROM clicks', options: '{ dedupe: { columns: [user_id] } }' });
    expect(executor.dedupeKey(click('a', '/x', 1))).toBe(executor.dedupeKey(click('a', '/y', 2)));
  });
});
