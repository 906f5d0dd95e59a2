import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH_GATE, invalidRate, judgeGate, type GateObservation } from './health-gate';
import { versionFigures, type ProgressRow } from './progress-figures';

const healthy: GateObservation = {
  elapsedMs: 8_000,
  batches: 3,
  instances: 2,
  instancesReporting: 2,
  crashes: 0,
  invalidRateBefore: 0.001,
  invalidRows: 1,
  inputRows: 1000,
  lagSecondsAtStart: 6,
  lagSecondsNow: 2,
};
const s = DEFAULT_HEALTH_GATE;

describe('judgeGate', () => {
  it('passes once enough batches are committed by every instance, naming the figures', () => {
    const v = judgeGate(healthy, s);
    expect(v.verdict).toBe('pass');
    expect(v.verdict === 'pass' && v.summary).toMatch(
      /3 batches committed in 8\.0 s by 2 instance\(s\).*-4\.0 s/,
    );
  });

  it('waits while batches are missing and the window is open', () => {
    expect(judgeGate({ ...healthy, batches: 2 }, s)).toEqual({ verdict: 'wait' });
    expect(judgeGate({ ...healthy, instancesReporting: 1 }, s)).toEqual({ verdict: 'wait' });
  });

  it('fails when the window closes first', () => {
    const v = judgeGate({ ...healthy, batches: 1, instancesReporting: 1, elapsedMs: 60_000 }, s);
    expect(v).toEqual({
      verdict: 'fail',
      reason: '1 of 3 batches committed (1 of 2 instances) within 60 s',
    });
    // Failed triggers are not batches; the last one's error says why the window ran out.
    const failing = judgeGate(
      {
        ...healthy,
        batches: 0,
        instancesReporting: 0,
        elapsedMs: 60_000,
        lastTriggerError: 'relation "t" does not exist',
      },
      s,
    );
    expect(failing.verdict === 'fail' && failing.reason).toBe(
      '0 of 3 batches committed (0 of 2 instances) within 60 s; last failed trigger: relation "t" does not exist',
    );
  });

  it('fails at once on a crash, with its reason', () => {
    const v = judgeGate(
      { ...healthy, batches: 0, crashes: 1, lastCrash: 'column "clicks" is of type uuid' },
      s,
    );
    expect(v).toEqual({
      verdict: 'fail',
      reason: 'an instance of the new version crashed: column "clicks" is of type uuid',
    });
  });

  it('fails on an invalid-row rate above the old one plus the allowance, without waiting for the window', () => {
    const v = judgeGate({ ...healthy, batches: 1, invalidRows: 300, inputRows: 1000 }, s);
    expect(v.verdict).toBe('fail');
    expect(v.verdict === 'fail' && v.reason).toBe(
      'invalid-row rate 30.00 % (300 of 1000 rows) against 0.10 % before the upgrade (at most 1.00 % more allowed)',
    );
    // Within the allowance: not a failure.
    expect(judgeGate({ ...healthy, invalidRows: 10, inputRows: 1000 }, s).verdict).toBe('pass');
    // Nothing read before: the rate before counts as 0.
    expect(judgeGate({ ...healthy, invalidRateBefore: null, invalidRows: 20 }, s).verdict).toBe('fail');
  });

  it('fails when the time lag grows by more than the threshold, and ignores an unknown lag', () => {
    const v = judgeGate({ ...healthy, lagSecondsAtStart: 2, lagSecondsNow: 40 }, s);
    expect(v).toEqual({
      verdict: 'fail',
      reason: 'time lag grew by 38.0 s (2.0 → 40.0 s; at most 30 s)',
    });
    expect(judgeGate({ ...healthy, lagSecondsAtStart: null }, s).verdict).toBe('pass');
  });

  it('computes rates: none without rows, all when only invalid rows were seen', () => {
    expect(invalidRate(0, 0)).toBeNull();
    expect(invalidRate(5, 0)).toBe(1);
    expect(invalidRate(5, 100)).toBe(0.05);
  });
});

describe('judgeGate over progress sequences (versionFigures → judgeGate)', () => {
  const target = { version: 3, checkpointEpoch: 2 };
  const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 15, 20, s));
  const event = (
    s: number,
    instance: string,
    sluice: Record<string, unknown>,
    numInputRows = 0,
  ): ProgressRow => ({
    instance,
    timestamp: at(s),
    payload: {
      numInputRows,
      sources: [{ endOffset: { t: { '0': 5 } }, latestOffset: { t: { '0': 900 } } }],
      sluice: { queryVersion: 3, checkpointEpoch: 2, instance, invalidRows: 0, tasks: [], ...sluice },
    },
  });
  /** What the executor hands judgeGate, from the new version's events since its start. */
  const judge = (rows: ProgressRow[], before: { invalid?: number | null; dead?: number | null } = {}) => {
    const f = versionFigures(rows, target);
    return judgeGate(
      {
        elapsedMs: 10_000,
        batches: f.batches,
        instances: 2,
        instancesReporting: f.instances.length,
        crashes: 0,
        lastTriggerError: f.lastTriggerError,
        failingInARow: f.failingInARow,
        failingInstance: f.failingInstance,
        failingError: f.failingError,
        invalidRateBefore: before.invalid ?? 0,
        invalidRows: f.invalidRows,
        inputRows: f.inputRows,
        deadLetterRateBefore: before.dead ?? 0,
        writtenOutputRows: f.writtenOutputRows,
        deadLetteredOutputRows: f.deadLetteredOutputRows,
        lagSecondsAtStart: 3,
        lagSecondsNow: 3,
      },
      s,
    );
  };
  const generated = 'cannot insert a non-DEFAULT value into column "clicks"';
  const sources = ['src.t.0', 'src.t.1', 'src.t.2'];

  // The bench:upgrade run of 2026-12-02 15:19 (new checkpoint, continue, load 21): a stateful
  // version whose sink table it cannot write. Its source tasks commit to the repartition topic in
  // every trigger; a trigger fails only when a shuffle task has rows for the sink. The first
  // trigger of each instance (nothing repartitioned yet) and a trigger whose shuffle tasks were
  // revoked by the second instance's join succeed: the gate counted those as 3 batches from both
  // instances and passed, and the engines never reached 5 failures in a row to exit.
  const found: ProgressRow[] = [
    event(1, 'q-0', { tasks: sources, sinkBatches: 0 }, 900),
    event(2, 'q-0', { tasks: sources, error: generated }, 1000),
    event(3, 'q-1', { tasks: ['src.t.2'], sinkBatches: 0 }, 300),
    event(4, 'q-0', { tasks: ['src.t.0', 'src.t.1'], sinkBatches: 0 }, 600),
    event(5, 'q-1', { tasks: ['src.t.2'], error: generated }, 300),
    event(6, 'q-0', { tasks: ['src.t.0', 'src.t.1'], error: generated }, 600),
  ];

  it('does not pass the 15:19 sequence: source-only triggers are no batches', () => {
    expect(judge(found)).toEqual({ verdict: 'wait' });
    // The same events from an engine before `sinkBatches` (every committed task counted): how it passed.
    const legacy = found.map((r) => {
      const p = r.payload as { sluice: Record<string, unknown> };
      const { sinkBatches: _dropped, ...sluice } = p.sluice;
      return { ...r, payload: { ...p, sluice } };
    });
    expect(judge(legacy).verdict).toBe('pass');
  });

  it('fails the 15:19 sequence at the third failed trigger in a row of one instance, naming it', () => {
    const v = judge([...found, event(7, 'q-0', { tasks: ['src.t.0', 'src.t.1'], error: generated }, 600)]);
    expect(v).toEqual({
      verdict: 'fail',
      reason: `3 triggers in a row failed on q-0; last error: ${generated}`,
    });
  });

  it('fails a version whose sink dead-letters every output row, though its invalid-row rate is small', () => {
    // An aggregation: 10,000 input rows a trigger become 20 groups, every one refused by the sink.
    const rows = [1, 2, 3, 4].map((t) =>
      event(
        t,
        t % 2 ? 'q-0' : 'q-1',
        { tasks: ['shuffle.0'], sinkBatches: 1, deadLetteredOutputRows: 20, invalidRows: 20 },
        10_000,
      ),
    );
    expect(judge(rows)).toEqual({
      verdict: 'fail',
      reason:
        'dead-letter rate of output rows 100.00 % (80 of 80 rows) against 0.00 % before the upgrade (at most 1.00 % more allowed)',
    });
  });

  it('fails a version whose sink dead-letters most output rows, and passes one that keeps the old rate', () => {
    const mostly = [1, 2, 3].map((t) =>
      event(t, t % 2 ? 'q-0' : 'q-1', {
        tasks: ['shuffle.0'],
        sinkBatches: 1,
        writtenOutputRows: 5,
        deadLetteredOutputRows: 15,
      }),
    );
    const v = judge(mostly);
    expect(v.verdict === 'fail' && v.reason).toMatch(
      /^dead-letter rate of output rows 75\.00 % \(45 of 60 rows\)/,
    );
    // The old version already dead-lettered as many: not this version's fault.
    expect(judge(mostly, { dead: 0.75 }).verdict).toBe('pass');
  });

  it('passes a global aggregation whose one group lies in a shuffle partition of one instance', () => {
    // q-1 owns no shuffle partition with rows: it commits source tasks only, and still runs.
    const rows = [1, 2, 3, 4, 5, 6].map((t) =>
      t % 2
        ? event(t, 'q-0', { tasks: ['src.t.0', 'shuffle.2'], sinkBatches: 1, writtenOutputRows: 1 }, 500)
        : event(t, 'q-1', { tasks: ['src.t.1', 'src.t.2'], sinkBatches: 0 }, 500),
    );
    expect(judge(rows).verdict).toBe('pass');
  });

  it('passes a healthy version that lost one trigger to the start-up rebalance', () => {
    const good = (t: number, i: string) =>
      event(t, i, { tasks: ['src.t.0', 'shuffle.0'], sinkBatches: 1, writtenOutputRows: 40 }, 1000);
    const rows = [
      event(1, 'q-0', { tasks: sources, sinkBatches: 0 }, 900),
      event(2, 'q-0', { tasks: sources, error: 'Producer attempted an operation with an old epoch' }),
      good(3, 'q-1'),
      good(4, 'q-0'),
      good(5, 'q-1'),
    ];
    expect(judge(rows).verdict).toBe('pass');
  });
});
