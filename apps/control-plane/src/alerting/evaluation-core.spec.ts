// The evaluation's pure part (EvaluationCore) on crafted inputs, in this thread and through the
// real worker thread (EvaluationThread): the same inputs give the same decisions either way.
import os from 'node:os';
import path from 'node:path';
import { QueryHistory } from '@sluice/alerting';
import { afterAll, describe, expect, it } from 'vitest';
import type { LagReading } from '../lag/lag.service';
import { EvaluationCore } from './evaluation-core';
import type {
  AlertInput,
  EvaluationInput,
  EvaluationOutput,
  QueryInput,
  RuleInput,
  StoredHistory,
} from './evaluation-messages';
import { EvaluationThread } from './evaluation-thread';
import { packLags, unpackLags, unpackLagsInto, type QueryLag } from './packed-lags';

/** The worker's bundle, kept between runs (build/bundle-cache.ts rebuilds it when a source changed). */
const BUNDLE_DIR = path.join(os.tmpdir(), 'sluice-worker-bundles');
const T0 = Date.parse('2026-12-02T08:00:00Z');
const rule: RuleInput = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'TimeLagHigh',
  kind: 'timeLag',
  params: { thresholdSeconds: 60 },
  forSeconds: 30,
  severity: 'warning',
  labels: { team: 'data' },
  annotations: { summary: '{{ $labels.query }} is {{ $value }} s behind' },
  queries: [],
};
const query: QueryInput = {
  id: '00000000-0000-4000-8000-0000000000a1',
  name: 'orders',
  phase: 'RUNNING',
  desiredState: 'RUNNING',
  lastProgressAtMs: T0,
  conditions: [],
  crashTimes: [new Date(T0 - 60_000).toISOString(), new Date(T0 - 3_600_000).toISOString(), 'garbage'],
};

function reading(atMs: number, secondsBehind: number | null, committed: number | null = 100): LagReading {
  return {
    readAtMs: atMs,
    partitions: [0, 1].map((partition) => ({
      topic: 'orders.in',
      partition,
      committedOffset: committed,
      endOffset: 500,
      recordsBehind: committed === null ? 500 : 500 - committed,
      secondsBehind,
    })),
  };
}

function input(nowMs: number, lag: LagReading | undefined, alerts: AlertInput[] = []) {
  const lags = packLags(new Map(lag ? [[query.id, lag]] : []));
  // A full hand-over: the core drops its copies and takes this as the whole state.
  const i: EvaluationInput = {
    nowMs,
    full: true,
    rules: [rule],
    queries: { upserts: [query], removed: [] },
    alerts: { upserts: alerts, removed: [] },
    lags,
    lagsGone: [],
    dashboardUrl: 'http://dash.example',
    saveHistories: 1000,
  };
  return { input: i, transfer: [lags.readAtMs.buffer, lags.start.buffer, lags.rows.buffer] as ArrayBuffer[] };
}

/** Commits per partition of a stored history, read back as a new leader would (any stored form). */
function commitCounts(state: unknown): number[] {
  const options = { windowSize: 100, sampleRetentionMs: 3600_000, objectives: [] };
  return QueryHistory.fromState(options, state)
    .commitWindows()
    .map((p) => p.commits.length);
}

/** The histories an output returned, parsed from its JSON chunks. */
function histories(out: EvaluationOutput): StoredHistory[] {
  return (out.histories ?? []).flatMap((c) => JSON.parse(c) as StoredHistory[]);
}

/** The alert rows as the database would hold them after applying `out`'s writes. */
function applied(out: EvaluationOutput): AlertInput[] {
  const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
  return out.writes.upserts.map((u) => ({
    id: u.id,
    ruleId: u.ruleId,
    queryId: u.queryId,
    queryName: u.queryName,
    state: u.state,
    activeAtMs: ms(u.activeAt),
    firedAtMs: ms(u.firedAt),
    resolvedAtMs: ms(u.resolvedAt),
    value: u.value,
    figures: u.figures,
  }));
}

describe('packed lag readings', () => {
  it('unpack to the readings that were packed, nulls included', () => {
    const lags = new Map([
      ['a', reading(T0, 12.5)],
      ['b', reading(T0 + 1, null, null)],
      ['c', { readAtMs: T0 + 2, partitions: [] }],
    ]);
    const back = unpackLags(packLags(lags));
    expect([...back.keys()]).toEqual(['a', 'b', 'c']);
    for (const [id, l] of lags) {
      expect(back.get(id)!.readAtMs).toBe(l.readAtMs);
      expect(back.get(id)!.partitions).toEqual(l.partitions);
    }
  });
});

describe('unpackLagsInto', () => {
  it('updates the readings it holds: same partitions, a different set, and queries not in the pack', () => {
    const into = new Map<string, QueryLag>();
    unpackLagsInto(
      packLags(
        new Map([
          ['a', reading(T0, 12.5)],
          ['b', reading(T0, 3)],
        ]),
      ),
      into,
    );
    const wider: LagReading = {
      readAtMs: T0 + 10,
      partitions: [
        ...reading(T0 + 10, 1).partitions,
        { ...reading(T0 + 10, 1).partitions[0]!, partition: 7 },
      ],
    };
    const next = new Map([
      ['a', reading(T0 + 10, null, null)],
      ['c', wider],
    ]);
    unpackLagsInto(packLags(new Map([...next, ['b', wider]])), into);
    expect(into.get('a')).toEqual(next.get('a'));
    expect(into.get('b')).toEqual(wider);
    expect(into.get('c')).toEqual(wider);
    unpackLagsInto(packLags(new Map([['c', reading(T0 + 20, 9)]])), into);
    expect(into.get('c')).toEqual(reading(T0 + 20, 9));
    expect(into.get('a')).toEqual(next.get('a'));
  });
});

describe('EvaluationCore', () => {
  it('takes a timeLag alert through pending, firing and resolved', () => {
    const core = new EvaluationCore();
    const first = core.evaluate(input(T0, reading(T0, 90)).input);
    expect(first.evaluations).toBe(1);
    expect(first.transitions).toBe(1);
    expect(first.writes.upserts).toHaveLength(1);
    const pending = first.writes.upserts[0]!;
    expect(pending).toMatchObject({
      state: 'pending',
      queryName: 'orders',
      value: 90,
      labels: { team: 'data', alertname: 'TimeLagHigh', query: 'orders', severity: 'warning' },
      annotations: { summary: 'orders is 90 s behind' },
      newEpisode: true,
    });
    expect(first.writes.transitions[0]).toMatchObject({ from: 'inactive', to: 'pending' });
    expect(first.alertsAfter).toEqual(['pending', 'TimeLagHigh', 'orders']);
    // One crash in the last 10 minutes (the hour-old one and the unreadable one do not count);
    // one commit with lag behind it is not judged yet (MIN_COMMITS_TO_JUDGE; Burrow would say STOP).
    expect(first.gauges).toEqual([
      { queryId: query.id, recentCrashes: 1, consumerStatus: 'orders.in/0=OK;orders.in/1=OK;' },
    ]);

    const stillPending = core.evaluate(input(T0 + 10_000, reading(T0 + 10_000, 90), applied(first)).input);
    expect(stillPending.transitions).toBe(0);
    const firing = core.evaluate(input(T0 + 31_000, reading(T0 + 31_000, 95), applied(first)).input);
    expect(firing.writes.upserts[0]).toMatchObject({ id: pending.id, state: 'firing', newEpisode: false });
    expect(firing.alertsAfter).toEqual(['firing', 'TimeLagHigh', 'orders']);
    const resolved = core.evaluate(input(T0 + 40_000, reading(T0 + 40_000, 5), applied(firing)).input);
    expect(resolved.writes.upserts[0]).toMatchObject({ id: pending.id, state: 'resolved' });
    expect(resolved.writes.transitions[0]).toMatchObject({ from: 'firing', to: 'resolved', value: 5 });
  });

  it('leaves a lag alert alone without a reading, and resolves one whose rule is gone', () => {
    const core = new EvaluationCore();
    const first = core.evaluate(input(T0, reading(T0, 90)).input);
    const noLag = core.evaluate(input(T0 + 10_000, undefined, applied(first)).input);
    expect(noLag.evaluations).toBe(0);
    expect(noLag.transitions).toBe(0);
    expect(noLag.alertsAfter).toEqual(['pending', 'TimeLagHigh', 'orders']);
    // The rule deleted: its pending alert has no rule any more and is dropped.
    const gone = core.evaluate({
      ...input(T0 + 20_000, reading(T0 + 20_000, 90), applied(first)).input,
      rules: [],
    });
    expect(gone.writes.deletes).toEqual([first.writes.upserts[0]!.id]);
    expect(gone.alertsAfter).toEqual([]);
  });

  it('keeps its copy of the alert rows between deltas: unchanged rows need not be sent again', () => {
    const core = new EvaluationCore();
    const first = core.evaluate(input(T0, reading(T0, 90)).input);
    // The pending row once (a full hand-over), then nothing: the core still knows it and fires it.
    core.evaluate(input(T0 + 10_000, reading(T0 + 10_000, 90), applied(first)).input);
    const empty = { upserts: [], removed: [] };
    const firing = core.evaluate({
      ...input(T0 + 31_000, reading(T0 + 31_000, 95)).input,
      full: false,
      alerts: empty,
    });
    expect(firing.writes.upserts[0]).toMatchObject({ id: first.writes.upserts[0]!.id, state: 'firing' });
    // The row removed (a rule deleted with its alerts): the core starts a new episode with a new id.
    const removed = core.evaluate({
      ...input(T0 + 41_000, reading(T0 + 41_000, 95)).input,
      full: false,
      alerts: { upserts: [], removed: [first.writes.upserts[0]!.id] },
    });
    expect(removed.writes.upserts[0]).toMatchObject({ state: 'pending', newEpisode: true });
    expect(removed.writes.upserts[0]!.id).not.toBe(first.writes.upserts[0]!.id);
    // A full hand-over replaces the copy: with no rows, the alert is new again.
    const full = core.evaluate({
      ...input(T0 + 51_000, reading(T0 + 51_000, 95)).input,
      alerts: { upserts: [], removed: [] },
    });
    expect(full.writes.transitions[0]).toMatchObject({ from: 'inactive', to: 'pending' });
  });

  it('observes a reading once and hands over its histories to a new core', () => {
    const core = new EvaluationCore();
    core.evaluate(input(T0, reading(T0, 1, 100)).input);
    // The same reading again (the lag poll had not read since): no second commit.
    const again = core.evaluate(input(T0 + 1000, reading(T0, 1, 100)).input);
    expect(again.histories).toEqual([]);
    const moved = core.evaluate(input(T0 + 5000, reading(T0 + 5000, 1, 200)).input);
    const state = histories(moved)[0]!.state as { observedAtMs: number };
    expect(histories(moved)[0]!.queryId).toBe(query.id);
    expect(state.observedAtMs).toBe(T0 + 5000);
    expect(commitCounts(state)).toEqual([2, 2]);

    // A new leader's core continues from the stored state: the stored reading is not observed again.
    const next = new EvaluationCore();
    const continued = next.evaluate({
      ...input(T0 + 6000, reading(T0 + 5000, 1, 200)).input,
      stored: moved.histories,
    });
    expect(continued.histories).toEqual([]);
    const later = next.evaluate(input(T0 + 10_000, reading(T0 + 10_000, 1, 300)).input);
    expect(commitCounts(histories(later)[0]!.state)).toEqual([3, 3]);
  });

  it('keeps queries and lag readings between deltas; a query removed takes its history and reading', () => {
    const core = new EvaluationCore();
    const first = core.evaluate(input(T0, reading(T0, 90)).input);
    expect(first.gauges).toHaveLength(1);
    // A second reading 10 s later, offsets moved and lag smaller: two commits, judged, still OK.
    const none = { upserts: [], removed: [] };
    const moved = {
      nowMs: T0 + 10_000,
      full: false,
      queries: none,
      alerts: { upserts: applied(first), removed: [] },
      lags: packLags(new Map([[query.id, reading(T0 + 10_000, 80, 200)]])),
      lagsGone: [],
      dashboardUrl: 'http://dash.example',
      saveHistories: 1000,
    };
    expect(core.evaluate(moved).gauges).toEqual([]);
    // Nothing sent: the core still evaluates the query on its last reading; of the gauges it
    // reports only what changed (no commit for 15 s after a window spanning 10 s: Burrow's STOP),
    // then nothing.
    const quiet = { ...moved, nowMs: T0 + 25_000, alerts: none, lags: packLags(new Map()) };
    const kept = core.evaluate(quiet);
    expect(kept.evaluations).toBe(1);
    expect(kept.gauges).toEqual([
      { queryId: query.id, recentCrashes: 1, consumerStatus: 'orders.in/0=STOP;orders.in/1=STOP;' },
    ]);
    expect(core.evaluate(quiet).gauges).toEqual([]);
    expect(kept.alertsAfter).toEqual(['pending', 'TimeLagHigh', 'orders']);
    // The reading gone (the query's lag is unknown now): the lag alert keeps its state, unevaluated.
    const unknown = core.evaluate({ ...quiet, nowMs: T0 + 40_000, alerts: none, lagsGone: [query.id] });
    expect(unknown.evaluations).toBe(0);
    expect(unknown.transitions).toBe(0);
    // The query removed (deleted): its alert is dropped (pending, never fired) and its history goes.
    const removed = core.evaluate({
      ...quiet,
      nowMs: T0 + 50_000,
      alerts: none,
      queries: { upserts: [], removed: [query.id] },
    });
    expect(removed.writes.deletes).toEqual([first.writes.upserts[0]!.id]);
    expect(histories(removed)).toEqual([]);
    // Back (a full hand-over without stored state): a new history, observed from this reading on.
    const back = core.evaluate(input(T0 + 60_000, reading(T0 + 60_000, 1, 300)).input);
    expect(commitCounts(histories(back)[0]!.state)).toEqual([1, 1]);
  });

  it("takes a query's last progress from the packed stamps, after the query rows", () => {
    const noProgress: RuleInput = {
      ...rule,
      id: '00000000-0000-4000-8000-000000000002',
      name: 'NoProgress',
      kind: 'queryHealth',
      params: { check: 'noProgress', silenceSeconds: 900 },
      forSeconds: 0,
    };
    const core = new EvaluationCore();
    const silent = T0 + 1000_000;
    const first = core.evaluate({ ...input(silent, undefined).input, rules: [noProgress] });
    expect(first.alertsAfter).toEqual(['firing', 'NoProgress', 'orders']);
    // The query's row is not sent again; only its new stamp is.
    const none = { upserts: [], removed: [] };
    const progressed = core.evaluate({
      nowMs: silent + 10_000,
      full: false,
      queries: none,
      alerts: { upserts: applied(first), removed: [] },
      lags: packLags(new Map()),
      lagsGone: [],
      progress: { ids: [query.id], atMs: Float64Array.from([silent + 5_000]) },
      dashboardUrl: 'http://dash.example',
      saveHistories: 0,
    });
    expect(progressed.writes.transitions.map((t) => [t.from, t.to])).toEqual([['firing', 'resolved']]);
  });

  it('returns at most the histories asked for, the longest unsaved first', () => {
    const core = new EvaluationCore();
    const ids = ['b1', 'b2', 'b3'].map((k) => `00000000-0000-4000-8000-0000000000${k}`);
    const queries = ids.map((id, i) => ({ ...query, id, name: `q${i}` }));
    const lagsOf = (atMs: number, which: string[]) =>
      packLags(new Map(which.map((id) => [id, reading(atMs, 1)])));
    const base = {
      full: false,
      rules: [rule],
      queries: { upserts: [] as QueryInput[], removed: [] },
      alerts: { upserts: [], removed: [] },
      lagsGone: [],
      dashboardUrl: 'http://dash.example',
    };
    const ids0 = (out: EvaluationOutput) => histories(out).map((h) => h.queryId);
    const one = core.evaluate({
      ...base,
      full: true,
      nowMs: T0,
      queries: { upserts: queries, removed: [] },
      lags: lagsOf(T0, ids),
      saveHistories: 2,
    });
    expect(ids0(one)).toEqual([ids[0], ids[1]]);
    // Only the first query observed again: the third (unsaved since T0) goes first.
    const two = core.evaluate({
      ...base,
      nowMs: T0 + 10_000,
      lags: lagsOf(T0 + 10_000, [ids[0]!]),
      saveHistories: 2,
    });
    expect(ids0(two)).toEqual([ids[2], ids[0]]);
    const three = core.evaluate({
      ...base,
      nowMs: T0 + 20_000,
      lags: lagsOf(T0 + 20_000, []),
      saveHistories: 2,
    });
    expect(ids0(three)).toEqual([]);
    // None asked for: nothing returned, and the observed ones wait for the next save.
    const four = core.evaluate({
      ...base,
      nowMs: T0 + 30_000,
      lags: lagsOf(T0 + 30_000, ids),
      saveHistories: 0,
    });
    expect(four.histories).toBeUndefined();
    const five = core.evaluate({
      ...base,
      nowMs: T0 + 40_000,
      lags: lagsOf(T0 + 40_000, []),
      saveHistories: 5,
    });
    expect(ids0(five)).toEqual(ids);
  });
});

// Starting a thread compiles its TypeScript (@swc-node/register): seconds on a loaded machine.
describe('EvaluationThread', { timeout: 120_000 }, () => {
  const thread = new EvaluationThread(BUNDLE_DIR);
  afterAll(() => thread.close());

  it('decides in its worker thread what the core decides in this one', async () => {
    expect(thread.needsStoredHistories).toBe(true);
    const local = new EvaluationCore();
    const strip = (o: EvaluationOutput) => ({
      ...o,
      phasesMs: {},
      writes: {
        ...o.writes,
        upserts: o.writes.upserts.map((u) => ({ ...u, id: '' })),
        transitions: o.writes.transitions.map((t) => ({ ...t, alertId: '' })),
      },
    });
    const a = input(T0, reading(T0, 90));
    const inThread = await thread.evaluate({ ...a.input, stored: [] }, a.transfer);
    expect(thread.needsStoredHistories).toBe(false);
    const here = local.evaluate(input(T0, reading(T0, 90)).input);
    expect(strip(inThread)).toEqual(strip(here));
    expect(inThread.writes.upserts[0]!.state).toBe('pending');

    // After forget() the thread's histories are gone and the stored ones are asked for again.
    await thread.forget();
    expect(thread.needsStoredHistories).toBe(true);
    const b = input(T0 + 5000, reading(T0 + 5000, 1, 200));
    const afterForget = await thread.evaluate(b.input, b.transfer);
    expect(commitCounts(histories(afterForget)[0]!.state)).toEqual([1, 1]);
  });

  it('reports a failed evaluation as an error and keeps serving', async () => {
    const bad = input(T0, reading(T0, 90));
    // A rule whose params are not an object makes the computation throw inside the thread.
    await expect(
      thread.evaluate({ ...bad.input, rules: [{ ...rule, kind: 'sloBurn', params: null }] }, bad.transfer),
    ).rejects.toThrow(/alert evaluation thread/);
    const ok = input(T0, reading(T0, 90));
    const out = await thread.evaluate(ok.input, ok.transfer);
    expect(out.evaluations).toBe(1);
  });

  it('serves two evaluators at once, each with its own histories, and outlives one closing', async () => {
    // A leader change inside one process: the old evaluator closes while the new one starts.
    const second = new EvaluationThread(BUNDLE_DIR);
    const a = input(T0, reading(T0, 1, 100));
    const started = second.evaluate({ ...a.input, stored: [] }, a.transfer);
    await thread.close();
    const first = await started;
    expect(histories(first)[0]!.queryId).toBe(query.id);
    const b = input(T0 + 5000, reading(T0 + 5000, 1, 200));
    const next = await second.evaluate(b.input, b.transfer);
    expect(commitCounts(histories(next)[0]!.state)).toEqual([2, 2]);
    await second.close();
  });
});
