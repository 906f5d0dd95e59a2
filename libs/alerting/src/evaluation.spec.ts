import { describe, expect, it } from 'vitest';
import {
  consumerStatus,
  consumerStatusOf,
  decideFlush,
  defaultRule,
  EMPTY_GROUP,
  evaluateRule,
  judgeRule,
  DEFAULT_RULES,
  matchesAll,
  QueryHistory,
  slackPayload,
  webhookPayload,
  type GroupAlert,
  type QuerySnapshot,
} from './index';

const T0 = 1_700_000_000_000;
const S = 1000;

function snapshot(extra: Partial<QuerySnapshot> = {}): QuerySnapshot {
  return {
    queryId: 'id-1',
    name: 'clicks',
    phase: 'RUNNING',
    desiredState: 'RUNNING',
    message: null,
    lastProgressAtMs: T0,
    crashTimesMs: [],
    partitions: [],
    commits: [],
    lagSamples: [],
    ...extra,
  };
}

describe('evaluateRule', () => {
  it('timeLag: max over partitions against the threshold, strictly above', () => {
    const rule = defaultRule('SluiceQueryTimeLagHigh')!;
    const parts = [
      { topic: 't', partition: 0, recordsBehind: 10, secondsBehind: 12 },
      { topic: 't', partition: 1, recordsBehind: 900, secondsBehind: 300 },
    ];
    const at = evaluateRule(rule, snapshot({ partitions: parts }), T0);
    expect(at).toMatchObject({
      active: false,
      value: 300,
      figures: { partition: 't/1', totalLagRecords: 910 },
    });
    const above = evaluateRule(rule, snapshot({ partitions: [{ ...parts[1]!, secondsBehind: 300.5 }] }), T0);
    expect(above.active).toBe(true);
  });

  it('timeLag: no time estimate yet while records wait is unknown (the alert keeps its state)', () => {
    const r = evaluateRule(
      defaultRule('SluiceQueryTimeLagHigh')!,
      snapshot({ partitions: [{ topic: 't', partition: 0, recordsBehind: 5, secondsBehind: null }] }),
      T0,
    );
    expect(r).toMatchObject({ active: false, unknown: true });
  });

  it('consumerStatus: a stopped consumer (no commits, lag) is STOP for the error rule', () => {
    const history = new QueryHistory({ windowSize: 10, sampleRetentionMs: 3600 * S, objectives: [60] });
    for (let i = 0; i < 3; i++) {
      history.observe(T0 + i * 10 * S, T0 + i * 10 * S, [
        {
          topic: 't',
          partition: 0,
          committedOffset: 100 * (i + 1),
          endOffset: 100 * (i + 1) + 5,
          secondsBehind: 1,
        },
      ]);
    }
    // The engine stops: no progress, the offset stays, the log grows.
    for (let i = 3; i < 8; i++) {
      history.observe(T0 + i * 10 * S, T0 + 20 * S, [
        { topic: 't', partition: 0, committedOffset: 300, endOffset: 300 + i * 50, secondsBehind: 30 },
      ]);
    }
    const q = snapshot({ commits: history.commitWindows() });
    const r = evaluateRule(defaultRule('SluiceConsumerStatusError')!, q, T0 + 70 * S);
    expect(r.figures.status).toBe('STOP');
    expect(r.active).toBe(true);
  });

  it('consumerStatusOf: computed once per snapshot, instant and window, equal to consumerStatus', () => {
    const commits = [
      {
        topic: 't',
        partition: 0,
        commits: [
          { offset: 100, lag: 5, timestampMs: T0 },
          { offset: 100, lag: 9, timestampMs: T0 + 10 * S },
        ],
        logEndOffset: 120,
      },
    ];
    const q = snapshot({ commits });
    const a = consumerStatusOf(q, T0 + 25 * S, { windowSize: 10 });
    expect(consumerStatusOf(q, T0 + 25 * S, { windowSize: 10 })).toBe(a);
    expect(a).toEqual(consumerStatus({ partitions: commits, nowMs: T0 + 25 * S }, { windowSize: 10 }));
    expect(a.status).toBe('STOP');
    // Another instant or window is another computation.
    const later = consumerStatusOf(q, T0 + 11 * S, { windowSize: 10 });
    expect(later).not.toBe(a);
    expect(later.status).toBe('STALL');
    expect(consumerStatusOf(q, T0 + 25 * S, { windowSize: 1 })).not.toBe(a);
  });

  it('QueryHistory: a history restored from its stored state (JSON) continues as the original would', () => {
    const options = { windowSize: 10, sampleRetentionMs: 3600 * S, objectives: [60] };
    const original = new QueryHistory(options);
    for (let i = 0; i < 3; i++) {
      original.observe(T0 + i * 10 * S, T0 + i * 10 * S, [
        {
          topic: 't',
          partition: 0,
          committedOffset: 100 * (i + 1),
          endOffset: 100 * (i + 1) + 5,
          secondsBehind: 1,
        },
        {
          topic: 't',
          partition: 1,
          committedOffset: 50 * (i + 1),
          endOffset: 50 * (i + 1),
          secondsBehind: 0,
        },
      ]);
    }
    // Through JSON, as PostgreSQL stores it; a new leader restores it.
    const restored = QueryHistory.fromState(options, JSON.parse(JSON.stringify(original.toState())));
    expect(restored.commitWindows()).toEqual(original.commitWindows());
    expect(restored.lagSamples()).toEqual(original.lagSamples());
    // The engine stops on both: the same STOP from the same windows.
    for (const h of [original, restored]) {
      for (let i = 3; i < 8; i++) {
        h.observe(T0 + i * 10 * S, T0 + 20 * S, [
          { topic: 't', partition: 0, committedOffset: 300, endOffset: 300 + i * 50, secondsBehind: 90 },
          { topic: 't', partition: 1, committedOffset: 150, endOffset: 150, secondsBehind: 0 },
        ]);
      }
    }
    expect(restored.commitWindows()).toEqual(original.commitWindows());
    expect(restored.lagSamples()).toEqual(original.lagSamples());
    const r = evaluateRule(
      defaultRule('SluiceConsumerStatusError')!,
      snapshot({ commits: restored.commitWindows() }),
      T0 + 70 * S,
    );
    expect(r.figures.status).toBe('STOP');
    // A state this version cannot read starts an empty history instead of failing the evaluation.
    expect(QueryHistory.fromState(options, { v: 99 }).commitWindows()).toEqual([]);
    expect(QueryHistory.fromState(options, null).lagSamples()).toEqual([]);
  });

  it('QueryHistory: a state stored in the second form (absolute numbers in flat arrays) still loads', () => {
    const options = { windowSize: 2, sampleRetentionMs: 3600 * S, objectives: [60] };
    const v2 = {
      v: 2,
      lastProgressMs: T0,
      partitions: [['t', 3, 30, 33, [33], [10, 5, T0 - 20 * S, 20, 4, T0 - 10 * S, 30, 3, T0]]],
      samples: [T0 - 60 * S, 1, T0, 2],
    };
    const restored = QueryHistory.fromState(options, JSON.parse(JSON.stringify(v2)));
    expect(restored.commitWindows()).toEqual([
      {
        topic: 't',
        partition: 3,
        commits: [
          { offset: 20, lag: 4, timestampMs: T0 - 10 * S },
          { offset: 30, lag: 3, timestampMs: T0 },
        ],
        logEndOffset: 33,
        recentLogEndOffsets: [33],
      },
    ]);
    expect(restored.lagSamples()).toEqual([
      { timestampMs: T0 - 60 * S, lagSeconds: 1 },
      { timestampMs: T0, lagSeconds: 2 },
    ]);
    // Written again in the current form (times and offsets relative), it reads back the same.
    const state = restored.toState();
    expect(state.partitions[0]![5]).toEqual([20, 4, T0 - 10 * S, 10, 3, 10 * S]);
    expect(state.samples).toEqual([T0 - 60 * S, 1, 60 * S, 2]);
    const again = QueryHistory.fromState(options, JSON.parse(JSON.stringify(state)));
    expect(again.commitWindows()).toEqual(restored.commitWindows());
    expect(again.lagSamples()).toEqual(restored.lagSamples());
  });

  it('QueryHistory: a state stored in the first form (objects per commit and sample) still loads', () => {
    const options = { windowSize: 2, sampleRetentionMs: 3600 * S, objectives: [60] };
    const v1 = {
      v: 1,
      lastProgressMs: T0,
      partitions: [
        {
          topic: 't',
          partition: 3,
          commits: [
            { offset: 10, lag: 5, timestampMs: T0 - 20 * S },
            { offset: 20, lag: 4, timestampMs: T0 - 10 * S },
            { offset: 30, lag: 3, timestampMs: T0 },
          ],
          lastOffset: 30,
          ends: [33],
          endOffset: 33,
        },
      ],
      samples: [{ timestampMs: T0, lagSeconds: 2 }],
    };
    const restored = QueryHistory.fromState(options, JSON.parse(JSON.stringify(v1)));
    // The window keeps its last `windowSize` commits, as a state written now would.
    expect(restored.commitWindows()).toEqual([
      {
        topic: 't',
        partition: 3,
        commits: [
          { offset: 20, lag: 4, timestampMs: T0 - 10 * S },
          { offset: 30, lag: 3, timestampMs: T0 },
        ],
        logEndOffset: 33,
        recentLogEndOffsets: [33],
      },
    ]);
    expect(restored.lagSamples()).toEqual([{ timestampMs: T0, lagSeconds: 2 }]);
    // Saved again, it is written in the current form and reads back the same.
    const again = QueryHistory.fromState(options, JSON.parse(JSON.stringify(restored.toState())));
    expect(restored.toState().v).toBe(3);
    expect(again.commitWindows()).toEqual(restored.commitWindows());
    expect(again.lagSamples()).toEqual(restored.lagSamples());
  });

  it('consumerStatus: progress events without offset movement while lag grows is STALL', () => {
    const history = new QueryHistory({ windowSize: 5, sampleRetentionMs: 3600 * S, objectives: [60] });
    for (let i = 0; i < 5; i++) {
      history.observe(T0 + i * 10 * S, T0 + i * 10 * S, [
        { topic: 't', partition: 0, committedOffset: 500, endOffset: 510 + i * 10, secondsBehind: 5 },
      ]);
    }
    const r = evaluateRule(
      defaultRule('SluiceConsumerStatusError')!,
      snapshot({ commits: history.commitWindows() }),
      T0 + 41 * S,
    );
    expect(r.figures.status).toBe('STALL');
    expect(r.active).toBe(true);
  });

  it('sloBurn: fires only when both windows burn faster than the threshold', () => {
    const rule = defaultRule('SluiceLagSloBurnFast')!;
    const history = new QueryHistory({ windowSize: 10, sampleRetentionMs: 7200 * S, objectives: [60] });
    // 50 minutes within the objective, then 10 minutes far above it.
    for (let m = 0; m <= 60; m++) {
      history.observe(T0 + m * 60 * S, T0 + m * 60 * S, [
        { topic: 't', partition: 0, committedOffset: 1, endOffset: 2, secondsBehind: m > 50 ? 600 : 5 },
      ]);
    }
    const r = evaluateRule(rule, snapshot({ lagSamples: history.lagSamples() }), T0 + 60 * 60 * S);
    expect(r.figures.longBadPercent).toBeCloseTo(15, 0);
    expect(r.figures.shortBadPercent).toBe(100);
    expect(r.active).toBe(true);
    // Samples were thinned to crossings and heartbeats, not one per observation.
    expect(history.lagSamples().length).toBeLessThanOrEqual(62);
  });

  it('queryHealth: FAILED, crash loop, stalled and no progress', () => {
    const failed = evaluateRule(
      defaultRule('SluiceQueryFailed')!,
      snapshot({ phase: 'FAILED', message: 'boom' }),
      T0,
    );
    expect(failed).toMatchObject({ active: true, figures: { message: 'boom' } });
    const crashes = [T0 - 10 * S, T0 - 20 * S, T0 - 30 * S];
    expect(
      evaluateRule(defaultRule('SluiceQueryCrashLooping')!, snapshot({ crashTimesMs: crashes }), T0).active,
    ).toBe(true);
    expect(
      evaluateRule(defaultRule('SluiceQueryCrashLooping')!, snapshot({ crashTimesMs: crashes.slice(1) }), T0)
        .active,
    ).toBe(false);
    const lagging = [{ topic: 't', partition: 0, recordsBehind: 7, secondsBehind: 3 }];
    const stalled = defaultRule('SluiceQueryStalled')!;
    expect(evaluateRule(stalled, snapshot({ partitions: lagging }), T0 + 121 * S).active).toBe(true);
    expect(evaluateRule(stalled, snapshot({ partitions: [] }), T0 + 121 * S).active).toBe(false);
    const none = defaultRule('SluiceQueryNoProgress')!;
    expect(evaluateRule(none, snapshot(), T0 + 901 * S).active).toBe(true);
    expect(
      evaluateRule(none, snapshot({ desiredState: 'STOPPED', phase: 'STOPPED' }), T0 + 901 * S).active,
    ).toBe(false);
  });
});

describe('matchers (Alertmanager semantics)', () => {
  it('equality, negation, anchored regex, missing label is empty', () => {
    const labels = { query: 'clicks-eu', severity: 'critical' };
    expect(matchesAll(labels, [{ name: 'query', value: 'clicks-eu', isRegex: false, isEqual: true }])).toBe(
      true,
    );
    expect(matchesAll(labels, [{ name: 'query', value: 'clicks', isRegex: true, isEqual: true }])).toBe(
      false,
    );
    expect(matchesAll(labels, [{ name: 'query', value: 'clicks-.*', isRegex: true, isEqual: true }])).toBe(
      true,
    );
    expect(
      matchesAll(labels, [{ name: 'severity', value: 'critical', isRegex: false, isEqual: false }]),
    ).toBe(false);
    expect(matchesAll(labels, [{ name: 'team', value: '', isRegex: false, isEqual: true }])).toBe(true);
  });
});

describe('decideFlush (group_wait, group_interval, repeat_interval)', () => {
  const timing = { groupWaitMs: 30 * S, groupIntervalMs: 300 * S, repeatIntervalMs: 3600 * S };
  const firing = (id: string): GroupAlert => ({
    id,
    status: 'firing',
    resolvedAtMs: null,
    acknowledged: false,
  });

  it('waits group_wait before the first notification, then sends everything', () => {
    const a = decideFlush(EMPTY_GROUP, [firing('a')], T0, timing);
    expect(a.action).toBe('wait');
    const b = decideFlush(
      (a as { state: typeof EMPTY_GROUP }).state,
      [firing('a'), firing('b')],
      T0 + 30 * S,
      timing,
    );
    expect(b.action).toBe('send');
    expect(b.action === 'send' && b.alerts.map((x) => x.id)).toEqual(['a', 'b']);
  });

  it('a change waits for group_interval; an unchanged group repeats after repeat_interval unless acknowledged', () => {
    const sent = { firstSeenAtMs: T0, lastSentAtMs: T0, lastHash: 'a:firing' };
    const resolved: GroupAlert = {
      id: 'a',
      status: 'resolved',
      resolvedAtMs: T0 + 10 * S,
      acknowledged: false,
    };
    expect(decideFlush(sent, [resolved], T0 + 100 * S, timing).action).toBe('wait');
    expect(decideFlush(sent, [resolved], T0 + 300 * S, timing).action).toBe('send');
    expect(decideFlush(sent, [firing('a')], T0 + 3599 * S, timing).action).toBe('wait');
    expect(decideFlush(sent, [firing('a')], T0 + 3600 * S, timing).action).toBe('send');
    expect(decideFlush(sent, [{ ...firing('a'), acknowledged: true }], T0 + 3600 * S, timing).action).toBe(
      'wait',
    );
  });

  it('a reported resolution leaves the group, which is then dropped', () => {
    const sent = { firstSeenAtMs: T0, lastSentAtMs: T0 + 20 * S, lastHash: 'a:resolved' };
    const resolved: GroupAlert = {
      id: 'a',
      status: 'resolved',
      resolvedAtMs: T0 + 10 * S,
      acknowledged: false,
    };
    expect(decideFlush(sent, [resolved], T0 + 400 * S, timing).action).toBe('drop');
  });
});

describe('payloads', () => {
  const alert = {
    status: 'firing' as const,
    labels: { alertname: 'SluiceQueryTimeLagHigh', query: 'clicks', severity: 'warning' },
    annotations: { summary: 's', description: 'd', dashboard: 'http://dash/queries/clicks' },
    startsAtMs: T0,
    endsAtMs: null,
    generatorURL: 'http://cp/api/v1/alerts?query=clicks',
    fingerprint: 'f1',
  };

  it("webhook v4 has Alertmanager's fields, group key and common labels", () => {
    const p = webhookPayload({
      receiver: 'ops',
      groupLabels: { query: 'clicks' },
      alerts: [
        alert,
        { ...alert, status: 'resolved', labels: { ...alert.labels, alertname: 'X' }, endsAtMs: T0 + S },
      ],
      externalURL: 'http://cp',
    });
    expect(p).toMatchObject({
      version: '4',
      groupKey: '{}:{query="clicks"}',
      status: 'firing',
      receiver: 'ops',
      truncatedAlerts: 0,
      commonLabels: { query: 'clicks', severity: 'warning' },
    });
    expect(p.alerts[0]!.endsAt).toBe('0001-01-01T00:00:00Z');
    expect(p.alerts[1]!.endsAt).toBe(new Date(T0 + S).toISOString());
    expect(slackPayload(p).text).toBe('[FIRING:1] clicks');
  });
});

describe('judgeRule', () => {
  it('says what evaluateRule says of the condition, for every default rule on varied snapshots', () => {
    const history = new QueryHistory({
      windowSize: 10,
      sampleRetentionMs: 6 * 3600 * S,
      objectives: [60, 300],
    });
    const snaps: QuerySnapshot[] = [snapshot(), snapshot({ phase: 'FAILED', message: 'boom' })];
    for (let i = 0; i < 40; i++) {
      const t = T0 + i * 10 * S;
      const stuck = i > 20 && i < 30;
      const partitions = [0, 1, 2].map((p) => ({
        topic: 't',
        partition: p,
        committedOffset: stuck ? 2000 : 100 * i,
        endOffset: 100 * i + (p + 1) * (i % 5) * 50,
        recordsBehind: (p + 1) * (i % 5) * 50,
        secondsBehind: i % 9 === 0 ? null : (p + 1) * (i % 5) * 40,
      }));
      history.observe(t, stuck ? T0 : t, partitions);
      snaps.push(
        snapshot({
          lastProgressAtMs: stuck ? T0 : t,
          crashTimesMs: i % 4 === 0 ? [t - 10 * S, t - 20 * S, t - 30 * S] : [],
          partitions,
          commits: history.commitWindows().map((w) => ({ ...w, commits: [...w.commits] })),
          lagSamples: [...history.lagSamples()],
        }),
      );
    }
    let active = 0;
    for (const [i, snap] of snaps.entries()) {
      const nowMs = T0 + i * 10 * S + 5 * S;
      for (const rule of DEFAULT_RULES) {
        const full = evaluateRule(rule, snap, nowMs);
        const verdict = judgeRule(rule, snap, nowMs);
        expect(verdict).toBe(full.unknown ? 'unknown' : full.active ? 'active' : 'inactive');
        if (verdict === 'active') active++;
      }
    }
    // The snapshots exercise both outcomes, not only the quiet one.
    expect(active).toBeGreaterThan(10);
  });

  it('QueryHistory: partitions observed in another order, or a set that changed, keep their own windows', () => {
    const history = new QueryHistory({ windowSize: 3, sampleRetentionMs: 3600 * S, objectives: [60] });
    const obs = (p: number, committed: number) => ({
      topic: 't',
      partition: p,
      committedOffset: committed,
      endOffset: committed + 5,
      secondsBehind: 1,
    });
    history.observe(T0, T0, [obs(0, 10), obs(1, 100)]);
    history.observe(T0 + 10 * S, T0 + 10 * S, [obs(1, 110), obs(0, 20)]);
    history.observe(T0 + 20 * S, T0 + 20 * S, [obs(1, 120), obs(2, 1000)]);
    const windows = history.commitWindows();
    expect(windows.map((w) => [w.partition, w.commits.map((c) => c.offset), w.logEndOffset])).toEqual([
      [1, [100, 110, 120], 125],
      [2, [1000], 1005],
    ]);
  });
});
