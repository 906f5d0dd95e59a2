import { describe, expect, it } from 'vitest';
import { parseStreamingQueryProgress } from '@sluice/contracts';
import { buildProgress, type TriggerReport } from './progress-builder';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const report = (over: Partial<TriggerReport> = {}): TriggerReport => ({
  queryId: 'q',
  runId: 'r',
  name: 'clicks',
  batchId: 4,
  triggerStartMs: T0,
  previousTriggerStartMs: T0 - 2000,
  durationMs: { triggerExecution: 500, addBatch: 300 },
  eventTimes: [T0 - 3000, T0 - 1000, T0 - 2000],
  watermarkMs: T0 - 10_000,
  sources: [
    {
      topic: 'clicks',
      start: { '0': 10, '1': 0 },
      end: { '0': 20, '1': 5 },
      latest: { '0': 26, '1': 5 },
      numInputRows: 15,
    },
  ],
  state: undefined,
  operatorName: 'stateStoreSave',
  sinkDescription: 'KafkaSink[out]',
  numOutputRows: 7,
  sluice: {
    queryVersion: 1,
    instance: 'q-0',
    rateLimit: null,
    invalidRows: 1,
    ackedCommands: [],
    tasks: ['src.clicks.0'],
  },
  ...over,
});

describe('buildProgress', () => {
  it('builds a Spark-shaped event the contract accepts: rates, event times, offsets, lag metrics', () => {
    const p = buildProgress(report());
    expect(parseStreamingQueryProgress(JSON.parse(JSON.stringify(p)))).toBeTruthy();
    expect(p).toMatchObject({
      id: 'q',
      batchId: 4,
      batchDuration: 500,
      numInputRows: 15,
      inputRowsPerSecond: 7.5,
      processedRowsPerSecond: 30,
      timestamp: '2026-01-01T12:00:00.000Z',
      eventTime: {
        min: '2026-01-01T11:59:57.000Z',
        max: '2026-01-01T11:59:59.000Z',
        avg: '2026-01-01T11:59:58.000Z',
        watermark: '2026-01-01T11:59:50.000Z',
      },
      stateOperators: [],
      sink: { description: 'KafkaSink[out]', numOutputRows: 7 },
    });
    expect(p.sources[0]).toMatchObject({
      description: 'KafkaV2[Subscribe[clicks]]',
      startOffset: { clicks: { '0': 10, '1': 0 } },
      endOffset: { clicks: { '0': 20, '1': 5 } },
      latestOffset: { clicks: { '0': 26, '1': 5 } },
      metrics: { avgOffsetsBehindLatest: '3.0', maxOffsetsBehindLatest: '6', minOffsetsBehindLatest: '0' },
    });
    expect(Object.keys(p.durationMs ?? {})).toEqual(['addBatch', 'triggerExecution']);
  });

  it('leaves the input rate out on the first trigger, no event times without rows, and names the state operator', () => {
    const state = {
      numRowsTotal: 3,
      numRowsUpdated: 2,
      numRowsRemoved: 0,
      allUpdatesTimeMs: 1,
      allRemovalsTimeMs: 0,
      commitTimeMs: 4,
      memoryUsedBytes: 100,
      numRowsDroppedByWatermark: 1,
      numShufflePartitions: 4,
      numStateStoreInstances: 2,
    };
    const p = buildProgress(
      report({
        previousTriggerStartMs: undefined,
        eventTimes: [],
        watermarkMs: undefined,
        state,
        operatorName: 'dedupe',
      }),
    );
    // Spark writes NaN here, which JSON cannot carry: the field is left out (sparkRate).
    expect('inputRowsPerSecond' in p).toBe(false);
    expect(p.processedRowsPerSecond).toBe(30);
    expect(p.eventTime).toBeUndefined();
    expect(p.stateOperators).toEqual([{ operatorName: 'dedupe', ...state }]);
  });

  it('describes a file source as Spark does, its offsets counting files', () => {
    const source = {
      topic: 'sluice.q.files.0123',
      start: { '0': 2 },
      end: { '0': 3 },
      latest: { '0': 3 },
      numInputRows: 4,
    };
    const p = buildProgress(report({ sources: [{ ...source, description: 'FileStreamSource[in/clicks]' }] }));
    expect(p.sources[0]).toMatchObject({
      description: 'FileStreamSource[in/clicks]',
      endOffset: { 'sluice.q.files.0123': { '0': 3 } },
    });
  });
});
