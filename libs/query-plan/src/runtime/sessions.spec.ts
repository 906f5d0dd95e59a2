// Session merging (runtime/sessions.ts) and the executor's session-window parts.
import { describe, expect, it } from 'vitest';
import { compileSpec, instantiate } from '../index';
import { querySpec } from '../testing/spec-text';
import { addToSessions, fromStoredSessions, toStoredSessions, type Session } from './sessions';

const GAP = 10;
const sum = (a: unknown, b: unknown) => (a as number) + (b as number);
const add = (sessions: Session[], t: number, n = 1) => addToSessions(sessions, t, GAP, n, sum);
const shape = (sessions: Session[]) => sessions.map((s) => [s.start, s.end, s.buffer]);

describe('addToSessions', () => {
  it('opens [t, t + gap) and extends a session a row falls in or touches', () => {
    let s = add([], 100);
    expect(shape(s)).toEqual([[100, 110, 1]]);
    s = add(s, 105);
    expect(shape(s)).toEqual([[100, 115, 2]]);
    s = add(s, 115); // starts exactly at the end: merges (Spark's test is start <= end)
    expect(shape(s)).toEqual([[100, 125, 3]]);
  });

  it('keeps sessions further apart than the gap separate and sorted, whatever the arrival order', () => {
    const s = add(add(add([], 300), 100), 200);
    expect(shape(s)).toEqual([
      [100, 110, 1],
      [200, 210, 1],
      [300, 310, 1],
    ]);
  });

  it('merges every session a late row bridges, combining their buffers', () => {
    const s = add(add(add([], 100, 1), 116, 2), 140, 4);
    expect(shape(add(s, 108, 8))).toEqual([
      [100, 126, 11],
      [140, 150, 4],
    ]);
  });

  it('does not depend on the order of rows within a key', () => {
    const times = [5, 40, 18, 60, 29, 51, 0];
    const forward = times.reduce<Session[]>((acc, t) => add(acc, t), []);
    const backward = [...times].reverse().reduce<Session[]>((acc, t) => add(acc, t), []);
    expect(shape(forward)).toEqual(shape(backward));
    expect(shape(forward)).toEqual([
      [0, 15, 2],
      [18, 28, 1],
      [29, 39, 1],
      [40, 50, 1],
      [51, 70, 2],
    ]);
  });

  it('marks changed sessions dirty; the stored form drops the mark and round-trips', () => {
    const stored = toStoredSessions(add(add([], 100), 200));
    expect(stored).toEqual([
      [100, 110, 1],
      [200, 210, 1],
    ]);
    const loaded = fromStoredSessions(JSON.parse(JSON.stringify(stored)));
    expect(loaded.every((s) => s.dirty === undefined)).toBe(true);
    const next = add(loaded, 205);
    expect(next.map((s) => s.dirty === true)).toEqual([false, true]);
  });

  it('refuses a stored value that is not a list of sessions', () => {
    expect(() => fromStoredSessions({ a: 1 })).toThrow(/not a list of sessions/);
    expect(() => fromStoredSessions([['x', 1, null]])).toThrow(/not \[start, end, buffer\]/);
  });
});

describe('executor: session-window aggregation', () => {
  const compiled = compileSpec(
    querySpec({
      sql: "SELECT user_id, session_window.start AS s, session_window.end AS e, count(*) AS n, sum(bytes) AS total, min(url) AS first_url, avg(bytes) AS mean\nFROM clicks GROUP BY user_id, session_window(ts, '1 minute')",
    }),
  );
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const executor = instantiate(compiled.plan);

  it('keys a row by its grouping key alone and drops rows with a NULL session column', () => {
    const [group] = executor.groups({ user_id: 'u1', url: '/a', ts: 1_000, bytes: 5 });
    expect(group?.key).toBe('["u1"]');
    expect(executor.groupValues(group!.key)).toEqual({ user_id: 'u1' });
    expect(group?.values).toMatchObject({ 'session_window.start': 1_000, 'session_window.end': 61_000 });
    expect(executor.groups({ user_id: 'u1', url: '/a', ts: null, bytes: 5 })).toEqual([]);
    expect(executor.session).toEqual({ column: 'ts', gapMs: 60_000 });
  });

  it('merges buffers of every aggregate and finalizes a session row', () => {
    const a = executor.update(executor.initBuffer(), { user_id: 'u1', url: '/b', ts: 1, bytes: 4 });
    const b = executor.update(executor.initBuffer(), { user_id: 'u1', url: '/a', ts: 2, bytes: 8 });
    const merged = executor.mergeBuffers(a, b);
    expect(
      executor.finalize({ user_id: 'u1', 'session_window.start': 1, 'session_window.end': 60_002 }, merged),
    ).toEqual({ user_id: 'u1', s: 1, e: 60_002, n: 2, total: 12, first_url: '/a', mean: 6 });
    // A buffer with no input (NULL arguments) merges as the identity.
    const empty = executor.update(executor.initBuffer(), { user_id: 'u1', url: null, ts: 3, bytes: null });
    expect(executor.finalize({ user_id: 'u1' }, executor.mergeBuffers(merged, empty))).toMatchObject({
      n: 3,
      total: 12,
      first_url: '/a',
      mean: 6,
    });
  });
});
