// What a tick hands the evaluation thread about queries and lag readings (query-mirror.ts,
// lag-mirror.ts): only what changed since the last committed hand-over, everything after a reset,
// and nothing lost when a hand-over is not committed (the thread failed).
import { describe, expect, it } from 'vitest';
import type { LagReading } from '../lag/lag.service';
import type { QueryDetail, QueryVersionRow } from './alert-evaluation.repository';
import { LagMirror } from './lag-mirror';
import { ProgressMirror } from './progress-mirror';
import { QueryMirror } from './query-mirror';

const row = (id: string, over: Partial<QueryVersionRow> = {}): QueryVersionRow => ({
  id,
  cluster: 'east',
  name: `q-${id}`,
  phase: 'RUNNING',
  desiredState: 'RUNNING',
  detail: `h-${id}`,
  ...over,
});
/** No query has progressed (ProgressMirror's concern, below). */
const NONE = new Map<string, number>();
const detail = (q: QueryVersionRow, conditions: unknown = []): QueryDetail => ({
  id: q.id,
  detail: q.detail,
  conditions,
  crashTimes: [],
});

describe('QueryMirror', () => {
  it('reads details only for new or changed hashes and hands over only changed queries', () => {
    const m = new QueryMirror();
    const rows = [row('a'), row('b')];
    expect(m.missingDetails(rows)).toEqual(['a', 'b']);
    m.addDetails(
      rows.map((q) => detail(q)),
      rows,
    );
    const first = m.diff(rows, new Map([['a', 1000]]));
    expect(first.upserts.map((q) => q.id)).toEqual(['a', 'b']);
    // A query handed over carries its last progress as read (b has none yet).
    expect(first.upserts[0]).toMatchObject({ name: 'q-a', lastProgressAtMs: 1000, conditions: [] });
    expect(first.upserts[1]).toMatchObject({ name: 'q-b', lastProgressAtMs: null });
    first.commit();

    // Progress moved on a: not a change of its row (ProgressMirror carries it), nothing to read.
    const moved = [row('a'), row('b', { phase: 'DEGRADED' })];
    expect(m.missingDetails(moved)).toEqual([]);
    const second = m.diff(moved, new Map([['a', 2000]]));
    expect(second.upserts.map((q) => [q.id, q.phase])).toEqual([['b', 'DEGRADED']]);
    expect(second.removed).toEqual([]);
    second.commit();

    // b's conditions changed (new hash) and a went: b's detail is read again, a removed.
    const changed = [row('b', { detail: 'h-b2' })];
    expect(m.missingDetails(changed)).toEqual(['b']);
    m.addDetails([detail(changed[0]!, [{ message: 'crashed' }])], changed);
    const third = m.diff(changed, NONE);
    expect(third.upserts).toEqual([
      expect.objectContaining({ id: 'b', conditions: [{ message: 'crashed' }] }),
    ]);
    expect(third.removed).toEqual(['a']);
    // Not committed (the thread failed): the next diff hands the same over again.
    expect(m.diff(changed, NONE).upserts.map((q) => q.id)).toEqual(['b']);
  });

  it('uses a detail newer than its version row, and never drops a query for a detail not read', () => {
    const m = new QueryMirror();
    const rows = [row('a'), row('b')];
    // b's detail not read (deleted between the two reads): b waits, a goes over.
    m.addDetails([detail(rows[0]!)], rows);
    const d = m.diff(rows, NONE);
    expect(d.upserts.map((q) => q.id)).toEqual(['a']);
    d.commit();
    expect(m.missingDetails(rows)).toEqual(['b']);
    m.addDetails([detail(rows[1]!)], rows);
    const withB = m.diff(rows, NONE);
    expect(withB.upserts.map((q) => q.id)).toEqual(['b']);
    withB.commit();
    // a crashed between the version read and the detail read: the newer detail is handed over.
    const stale = [row('a', { detail: 'h-a2' }), row('b')];
    m.addDetails([{ id: 'a', detail: 'h-a3', conditions: [{ message: 'crash 2' }], crashTimes: [] }], stale);
    const newer = m.diff(stale, NONE);
    expect(newer.upserts).toEqual([
      expect.objectContaining({ id: 'a', conditions: [{ message: 'crash 2' }] }),
    ]);
    newer.commit();
    // The next version row carries that hash: nothing to read, nothing to hand over.
    const caught = [row('a', { detail: 'h-a3' }), row('b')];
    expect(m.missingDetails(caught)).toEqual([]);
    expect(m.diff(caught, NONE).upserts).toEqual([]);
    // A known query whose detail is gone from the cache (never the case but after a race) is kept,
    // not removed: it goes only when its version row does.
    const m2 = new QueryMirror();
    m2.addDetails([detail(rows[0]!)], rows);
    m2.diff([rows[0]!], NONE).commit();
    m2.addDetails([], []);
    const kept = m2.diff([rows[0]!], NONE);
    expect(kept.removed).toEqual([]);
    kept.commit();
    expect(m2.diff([], NONE).removed).toEqual(['a']);
  });

  it('hands over everything again after a reset', () => {
    const m = new QueryMirror();
    const rows = [row('a')];
    m.addDetails([detail(rows[0]!)], rows);
    m.diff(rows, NONE).commit();
    expect(m.diff(rows, NONE).upserts).toEqual([]);
    m.reset();
    expect(m.diff(rows, NONE).upserts.map((q) => q.id)).toEqual(['a']);
  });
});

const reading = (readAtMs: number): LagReading => ({ readAtMs, partitions: [] });

describe('LagMirror', () => {
  it('hands over only readings the thread has not seen, and names the queries without one', () => {
    const m = new LagMirror();
    const first = m.diff(
      new Map([
        ['a', reading(1)],
        ['b', reading(1)],
      ]),
    );
    expect([...first.fresh.keys()]).toEqual(['a', 'b']);
    first.commit();
    // a read again (new readAtMs), b the same reading (the poll has not read since): only a.
    const second = m.diff(
      new Map([
        ['a', reading(2)],
        ['b', reading(1)],
      ]),
    );
    expect([...second.fresh.keys()]).toEqual(['a']);
    expect(second.gone).toEqual([]);
    second.commit();
    // b has no reading any more (stopped, or its reading went stale).
    const third = m.diff(new Map([['a', reading(2)]]));
    expect(third.fresh.size).toBe(0);
    expect(third.gone).toEqual(['b']);
    // Not committed: the same again; after a reset, everything.
    expect(m.diff(new Map([['a', reading(2)]])).gone).toEqual(['b']);
    m.reset();
    const full = m.diff(new Map([['a', reading(2)]]));
    expect([...full.fresh.keys()]).toEqual(['a']);
    expect(full.gone).toEqual([]);
  });
});

describe('ProgressMirror', () => {
  const q = (id: string) => ({ id });
  const handed = (d: { packed: { ids: string[]; atMs: Float64Array } }) =>
    d.packed.ids.map((id, i) => [id, d.packed.atMs[i]]);

  it('hands over only the stamps that moved, and again after a reset or a failed hand-over', () => {
    const m = new ProgressMirror();
    const first = m.diff(
      [q('a'), q('b'), q('c')],
      new Map([
        ['a', 1000],
        ['b', 1000],
      ]),
    );
    // c has never progressed: nothing to hand over for it.
    expect(handed(first)).toEqual([
      ['a', 1000],
      ['b', 1000],
    ]);
    first.commit();
    const second = m.diff(
      [q('a'), q('b'), q('c')],
      new Map([
        ['a', 2000],
        ['b', 1000],
        ['c', 1500],
      ]),
    );
    expect(handed(second)).toEqual([
      ['a', 2000],
      ['c', 1500],
    ]);
    // Not committed (the thread failed): the same stamps go again.
    expect(
      handed(
        m.diff(
          [q('a'), q('b'), q('c')],
          new Map([
            ['a', 2000],
            ['b', 1000],
            ['c', 1500],
          ]),
        ),
      ),
    ).toEqual([
      ['a', 2000],
      ['c', 1500],
    ]);
    m.reset();
    expect(handed(m.diff([q('a')], new Map([['a', 1000]])))).toEqual([['a', 1000]]);
  });

  it("leaves out other clusters' queries and forgets queries that went", () => {
    const m = new ProgressMirror();
    const stamps = new Map([
      ['a', 1000],
      ['other', 1000],
    ]);
    const first = m.diff([q('a')], stamps);
    expect(handed(first)).toEqual([['a', 1000]]);
    first.commit();
    m.diff([], stamps).commit();
    // a came back (adopted again): its stamp is handed over again, as the thread dropped it.
    expect(handed(m.diff([q('a')], stamps))).toEqual([['a', 1000]]);
  });
});
