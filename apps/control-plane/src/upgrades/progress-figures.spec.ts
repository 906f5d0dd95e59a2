import { describe, expect, it } from 'vitest';
import {
  acknowledgements,
  pausedBacklogs,
  pausedErrors,
  versionFigures,
  type ProgressRow,
} from './progress-figures';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const row = (
  s: number,
  instance: string,
  sluice: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): ProgressRow => ({
  instance,
  timestamp: at(s),
  payload: {
    numInputRows: 0,
    sources: [{ endOffset: { t: { '0': 5 } }, latestOffset: { t: { '0': 9 } } }],
    ...extra,
    sluice: { instance, invalidRows: 0, tasks: [], ...sluice },
  },
});

describe('versionFigures', () => {
  it('counts the batches, rows and instances of one version on one checkpoint', () => {
    const rows = [
      row(1, 'q-0', { queryVersion: 1, tasks: ['src.t.0'] }, { numInputRows: 100 }), // old version
      row(2, 'q-0', { queryVersion: 2, tasks: ['src.t.0'], invalidRows: 3 }, { numInputRows: 50 }),
      row(3, 'q-1', { queryVersion: 2, tasks: ['src.t.1'] }, { numInputRows: 40 }),
      row(4, 'q-1', { queryVersion: 2, tasks: [] }), // idle, not caught up: not a batch
      row(5, 'q-0', { queryVersion: 2, checkpointEpoch: 1, tasks: ['src.t.0'] }), // other checkpoint
      row(6, 'q-0', { queryVersion: 2, tasks: ['src.t.0'] }, { numInputRows: 10 }),
      // A failed trigger (its source task committed, the sink did not): not a batch, rows read again.
      row(
        7,
        'q-1',
        { queryVersion: 2, tasks: ['src.t.1'], error: 'column "clicks" can only be updated to DEFAULT' },
        { numInputRows: 99 },
      ),
    ];
    expect(versionFigures(rows, { version: 2, checkpointEpoch: 0 })).toEqual({
      batches: 3,
      refusedBatches: 0,
      instances: ['q-0', 'q-1'],
      invalidRows: 3,
      inputRows: 100,
      writtenOutputRows: 0,
      deadLetteredOutputRows: 0,
      firstBatchAt: at(2),
      lastBatchAt: at(6),
      failedTriggers: 1,
      lastTriggerError: 'column "clicks" can only be updated to DEFAULT',
      failingInARow: 1,
      failingInstance: 'q-1',
      failingError: 'column "clicks" can only be updated to DEFAULT',
      oldBacklog: null,
    });
  });

  it("counts only triggers that committed to the sink: a stateful plan's source tasks alone are no batch", () => {
    const v = { queryVersion: 2 };
    const rows = [
      // Source tasks committed to the repartition topic; nothing reached the sink.
      row(1, 'q-0', { ...v, tasks: ['src.t.0', 'src.t.1'], sinkBatches: 0 }, { numInputRows: 500 }),
      row(2, 'q-0', { ...v, tasks: ['src.t.0', 'shuffle.0'], sinkBatches: 1, writtenOutputRows: 40 }),
      // Every output row dead-lettered: committed, but no proof the sink takes this version's rows.
      row(3, 'q-1', {
        ...v,
        tasks: ['shuffle.1'],
        sinkBatches: 1,
        writtenOutputRows: 0,
        deadLetteredOutputRows: 30,
        invalidRows: 30,
      }),
    ];
    const f = versionFigures(rows, { version: 2, checkpointEpoch: 0 });
    expect(f).toMatchObject({
      batches: 1,
      refusedBatches: 1,
      // Both committed a trigger: they run (whether they write the sink is the batches' count).
      instances: ['q-0', 'q-1'],
      writtenOutputRows: 40,
      deadLetteredOutputRows: 30,
      invalidRows: 30,
      inputRows: 500,
      firstBatchAt: at(2),
    });
  });

  it('tracks the run of failed triggers each instance is in; a sink batch ends it, a source-only trigger does not', () => {
    const v = { queryVersion: 2 };
    const fail = (s: number, i: string) => row(s, i, { ...v, tasks: ['src.t.0'], error: 'boom' });
    const sourceOnly = (s: number, i: string) => row(s, i, { ...v, tasks: ['src.t.0'], sinkBatches: 0 });
    const good = (s: number, i: string) =>
      row(s, i, { ...v, tasks: ['shuffle.0'], sinkBatches: 1, writtenOutputRows: 5 });
    const target = { version: 2, checkpointEpoch: 0 };
    const f = versionFigures(
      [fail(1, 'q-0'), sourceOnly(2, 'q-0'), fail(3, 'q-0'), fail(4, 'q-1'), good(5, 'q-1')],
      target,
    );
    expect([f.failingInARow, f.failingInstance, f.failedTriggers]).toEqual([2, 'q-0', 3]);
    // The failing instance's own last error, not the version's last one (q-1's here).
    const other = row(9, 'q-1', { ...v, tasks: [], error: 'another error' });
    const mixed = versionFigures([fail(1, 'q-0'), fail(2, 'q-0'), other], target);
    expect([mixed.failingInstance, mixed.failingError, mixed.lastTriggerError]).toEqual([
      'q-0',
      'boom',
      'another error',
    ]);
    expect(versionFigures([fail(1, 'q-0'), good(2, 'q-0')], target).failingInARow).toBe(0);
    // A database outage the engine waits out neither extends nor ends the run.
    const outage = row(6, 'q-0', { ...v, tasks: [], error: 'connect ECONNREFUSED', waitedOut: true });
    const withOutage = versionFigures([fail(1, 'q-0'), outage, outage, fail(7, 'q-0')], target);
    expect([withOutage.failingInARow, withOutage.failedTriggers]).toEqual([2, 4]);
  });

  it("carries what a continuing lineage's start found in the old backlog, rows without an origin included", () => {
    const backlog = { rows: 240, withoutOrigin: 7, partlyAggregatedRecords: 12 };
    const rows = [
      row(1, 'q-0', {
        queryVersion: 2,
        checkpointEpoch: 1,
        tasks: ['src.t.0'],
        continued: { fromEpoch: 0, backlog },
      }),
      // Another lineage's report is not this version's.
      row(2, 'q-0', {
        queryVersion: 2,
        checkpointEpoch: 2,
        tasks: [],
        continued: { fromEpoch: 1, backlog: { rows: 1, withoutOrigin: 1, partlyAggregatedRecords: 0 } },
      }),
    ];
    expect(versionFigures(rows, { version: 2, checkpointEpoch: 1 }).oldBacklog).toEqual(backlog);
    expect(versionFigures(rows.slice(0, 0), { version: 2, checkpointEpoch: 1 }).oldBacklog).toBeNull();
  });

  it('counts the idle report of a caught-up source as a healthy trigger', () => {
    const idle = row(
      1,
      'q-0',
      { queryVersion: 3, tasks: [] },
      { sources: [{ endOffset: { t: { '0': 9 } }, latestOffset: { t: { '0': 9 } } }] },
    );
    const f = versionFigures([idle], { version: 3, checkpointEpoch: 0 });
    expect(f.batches).toBe(1);
    expect(f.instances).toEqual(['q-0']);
    expect(f.firstBatchAt).toBeNull();
  });
});

describe('acknowledgements and paused backlogs', () => {
  it('finds who acknowledged a command, first event each', () => {
    const rows = [
      row(1, 'q-0', { ackedCommands: ['c1'] }),
      row(2, 'q-1', { ackedCommands: ['c0', 'c1'] }),
      row(3, 'q-0', { ackedCommands: ['c1'] }),
    ];
    expect([...acknowledgements(rows, 'c1')]).toEqual([
      ['q-0', at(1)],
      ['q-1', at(2)],
    ]);
  });

  it('keeps the last paused backlog each instance reported after a moment', () => {
    const rows = [
      row(1, 'q-0', { sourcesPaused: true, shuffleBacklog: 50 }),
      row(3, 'q-0', { sourcesPaused: true, shuffleBacklog: 7 }),
      row(4, 'q-1', { sourcesPaused: true, shuffleBacklog: 0 }),
      row(5, 'q-1', { shuffleBacklog: 9 }), // not paused: ignored
    ];
    expect([...pausedBacklogs(rows, at(2).getTime())]).toEqual([
      ['q-0', 7],
      ['q-1', 0],
    ]);
  });

  it('names the instances whose last paused trigger failed (their shuffle stage cannot flush)', () => {
    const rows = [
      row(1, 'q-0', { sourcesPaused: true, shuffleBacklog: 50, error: 'too early' }),
      row(3, 'q-0', { sourcesPaused: true, shuffleBacklog: 50, error: 'sink refuses' }),
      row(3, 'q-1', { sourcesPaused: true, shuffleBacklog: 4, error: 'recovered later' }),
      row(4, 'q-1', { sourcesPaused: true, shuffleBacklog: 0 }),
      row(5, 'q-2', { error: 'not paused' }),
    ];
    expect([...pausedErrors(rows, at(2).getTime())]).toEqual([['q-0', 'sink refuses']]);
  });
});
