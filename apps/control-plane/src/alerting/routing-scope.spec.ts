// The pure parts of "route only what changed": which groups a pass must decide (routing-scope.ts)
// and what changed among the alert rows (alert-mirror.ts). The equivalence with a pass over every
// group is checked against decideFlush itself on a simulated timeline.
import { decideFlush, EMPTY_GROUP, type GroupAlert, type GroupState } from '@sluice/alerting';
import { describe, expect, it } from 'vitest';
import { AlertMirror, type AlertVersion } from './alert-mirror';
import { dueGroupKeys, RoutingChain, routingSignature, timersOf, type ReceiverTiming } from './routing-scope';

const T0 = Date.parse('2026-12-02T12:00:00Z');
const receiver: ReceiverTiming = {
  id: 'r1',
  groupWaitSeconds: 30,
  groupIntervalSeconds: 300,
  repeatIntervalSeconds: 3600,
};

describe('timersOf / dueGroupKeys', () => {
  it('a group not sent yet is due when its group_wait ends', () => {
    const g = { receiverId: 'r1', groupKey: 'q', firstSeenAtMs: T0, lastSentAtMs: null };
    expect(timersOf(g, receiver)).toEqual([T0 + 30_000]);
    expect(dueGroupKeys([g], [receiver], T0 + 20_000, T0 + 29_999)).toEqual(new Set());
    expect(dueGroupKeys([g], [receiver], T0 + 20_000, T0 + 30_000)).toEqual(new Set(['q']));
    // Once decided after the timer, it is not due again.
    expect(dueGroupKeys([g], [receiver], T0 + 30_000, T0 + 40_000)).toEqual(new Set());
  });

  it('a sent group is due at group_interval and at repeat_interval after the send', () => {
    const g = { receiverId: 'r1', groupKey: 'q', firstSeenAtMs: T0, lastSentAtMs: T0 };
    expect(timersOf(g, receiver)).toEqual([T0 + 300_000, T0 + 3_600_000]);
    expect(dueGroupKeys([g], [receiver], T0 + 290_000, T0 + 300_000).has('q')).toBe(true);
    expect(dueGroupKeys([g], [receiver], T0 + 300_000, T0 + 3_590_000).has('q')).toBe(false);
    expect(dueGroupKeys([g], [receiver], T0 + 3_590_000, T0 + 3_600_001).has('q')).toBe(true);
  });

  it('ignores the groups of receivers that are not routed to (disabled or deleted)', () => {
    const g = { receiverId: 'gone', groupKey: 'q', firstSeenAtMs: T0, lastSentAtMs: null };
    expect(dueGroupKeys([g], [receiver], T0, T0 + 60_000)).toEqual(new Set());
  });
});

describe('RoutingChain', () => {
  const sig = routingSignature([{ id: 'r1', updatedAt: new Date(T0) }], []);

  it('decides every group on its first pass, after a reset, and when receivers or silences change', () => {
    const chain = new RoutingChain();
    expect(chain.scope(T0, sig, new Set(), [], [receiver])).toEqual({ all: true });
    chain.passed(T0, sig);
    expect(chain.scope(T0 + 10_000, sig, new Set(['a']), [], [receiver])).toEqual({
      all: false,
      queries: new Set(['a']),
    });
    const silenced = routingSignature([{ id: 'r1', updatedAt: new Date(T0) }], [{ id: 's1' }]);
    expect(chain.scope(T0 + 10_000, silenced, new Set(), [], [receiver])).toEqual({ all: true });
    const edited = routingSignature([{ id: 'r1', updatedAt: new Date(T0 + 1) }], []);
    expect(chain.scope(T0 + 10_000, edited, new Set(), [], [receiver])).toEqual({ all: true });
    chain.reset();
    expect(chain.scope(T0 + 10_000, sig, new Set(), [], [receiver])).toEqual({ all: true });
  });

  it('the signature does not depend on the order rows were read in', () => {
    const a = { id: 'a', updatedAt: new Date(T0) };
    const b = { id: 'b', updatedAt: new Date(T0) };
    expect(routingSignature([a, b], [{ id: 'x' }, { id: 'y' }])).toBe(
      routingSignature([b, a], [{ id: 'y' }, { id: 'x' }]),
    );
  });

  it('decides the same as a pass over every group, on a timeline of changes and timers', () => {
    // One group per query, alerts changing at some ticks; the "full" router decides every group
    // every tick, the "scoped" one only what RoutingChain gives it. Their sends must be equal.
    const timing = { groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 3_600_000 };
    const queries = ['a', 'b', 'c'];
    const alertsAt = (q: string, tick: number): GroupAlert[] => {
      // a: fires at tick 2, resolves at 40; b: fires at 5, a second alert at 9, acknowledged at 400;
      // c: never.
      if (q === 'a' && tick >= 2)
        return [
          {
            id: 'a1',
            status: tick < 40 ? 'firing' : 'resolved',
            resolvedAtMs: tick < 40 ? null : T0 + 40 * 10_000,
            acknowledged: false,
          },
        ];
      if (q === 'b' && tick >= 5) {
        const list: GroupAlert[] = [
          { id: 'b1', status: 'firing', resolvedAtMs: null, acknowledged: tick >= 400 },
        ];
        if (tick >= 9) list.push({ id: 'b2', status: 'firing', resolvedAtMs: null, acknowledged: false });
        return list;
      }
      return [];
    };
    const changedAt = (q: string, tick: number) =>
      JSON.stringify(alertsAt(q, tick)) !== JSON.stringify(alertsAt(q, tick - 1));
    const run = (scoped: boolean) => {
      const state = new Map<string, GroupState>();
      const sends: string[] = [];
      const chain = new RoutingChain();
      for (let tick = 0; tick < 800; tick++) {
        const now = T0 + tick * 10_000;
        const groups = [...state].map(([groupKey, s]) => ({
          receiverId: 'r1',
          groupKey,
          firstSeenAtMs: s.firstSeenAtMs,
          lastSentAtMs: s.lastSentAtMs,
        }));
        const changed = new Set(queries.filter((q) => changedAt(q, tick)));
        const scope = scoped ? chain.scope(now, sig, changed, groups, [receiver]) : { all: true as const };
        for (const q of queries) {
          if (!scope.all && !scope.queries.has(q)) continue;
          const alerts = alertsAt(q, tick);
          if (alerts.length === 0 && !state.has(q)) continue;
          const d = decideFlush(state.get(q) ?? EMPTY_GROUP, alerts, now, timing);
          if (d.action === 'drop') state.delete(q);
          else state.set(q, d.state);
          if (d.action === 'send')
            sends.push(`${tick}:${q}:${d.alerts.map((x) => x.id + x.status).join(',')}`);
        }
        chain.passed(now, sig);
      }
      return sends;
    };
    const full = run(false);
    expect(full.length).toBeGreaterThan(5);
    expect(run(true)).toEqual(full);
  });
});

describe('AlertMirror', () => {
  const row = (id: string, version: string, queryName = `q-${id}`, inScope = true): AlertVersion => ({
    id,
    queryName,
    inScope,
    version,
  });

  it('hands over everything first, then only what changed, appeared or went', () => {
    const m = new AlertMirror();
    const first = m.diff([row('1', 'v1'), row('2', 'v1')]);
    expect(first.full).toBe(true);
    expect(first.changed.map((r) => r.id)).toEqual(['1', '2']);
    first.commit();
    const second = m.diff([row('1', 'v1'), row('2', 'v2'), row('3', 'v1')]);
    expect(second.full).toBe(false);
    expect(second.changed.map((r) => r.id)).toEqual(['2', '3']);
    expect(second.removed).toEqual([]);
    expect(second.queries).toEqual(new Set(['q-2', 'q-3']));
    second.commit();
    const third = m.diff([row('2', 'v2')]);
    expect(third.changed).toEqual([]);
    expect(third.removed.sort()).toEqual(['1', '3']);
    expect(third.queries).toEqual(new Set(['q-1', 'q-3']));
  });

  it('an uncommitted diff (the thread did not take it) is handed over again', () => {
    const m = new AlertMirror();
    m.diff([row('1', 'v1')]).commit();
    const lost = m.diff([row('1', 'v2')]);
    expect(lost.changed.map((r) => r.id)).toEqual(['1']);
    const again = m.diff([row('1', 'v2')]);
    expect(again.changed.map((r) => r.id)).toEqual(['1']);
  });

  it("another cluster's rows are routing changes but never reach the thread", () => {
    const m = new AlertMirror();
    m.diff([row('1', 'v1', 'q', false), row('2', 'v1', 'p')]).commit();
    const d = m.diff([row('1', 'v2', 'q', false), row('2', 'v1', 'p', false)]);
    expect(d.changed).toEqual([]);
    expect(d.removed).toEqual(['2']);
    expect(d.queries).toEqual(new Set(['q', 'p']));
  });

  it('reset makes the next diff a full one', () => {
    const m = new AlertMirror();
    m.diff([row('1', 'v1')]).commit();
    m.reset();
    const d = m.diff([row('1', 'v1')]);
    expect(d.full).toBe(true);
    expect(d.changed.map((r) => r.id)).toEqual(['1']);
  });
});
