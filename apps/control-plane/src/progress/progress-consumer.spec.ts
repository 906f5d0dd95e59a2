import { describe, expect, it } from 'vitest';
import { parseStreamingQueryProgress } from '@sluice/contracts';
import { summarise } from './progress-consumer';
import type { IngestableProgress } from './progress-writer';

const A = '0f8fad5b-d9cb-469f-a165-70867728950e';
const B = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

function parsed(id: string, batchId: number, extra: Record<string, unknown>) {
  const event = parseStreamingQueryProgress({
    id,
    runId: 'r',
    timestamp: '2026-01-01T00:00:00Z',
    batchId,
    numInputRows: 1,
    sources: [],
    ...extra,
  });
  const row: IngestableProgress = {
    queryId: id,
    runId: 'r',
    batchId,
    instance: null,
    timestamp: new Date(event.timestamp),
    numInputRows: 1,
    inputRowsPerSecond: typeof extra.inputRowsPerSecond === 'number' ? extra.inputRowsPerSecond : null,
    processedRowsPerSecond: null,
    batchDurationMs: typeof extra.batchDuration === 'number' ? extra.batchDuration : null,
    payloadJson: '{}',
  };
  return { event, row };
}

describe('summarise', () => {
  it('keeps the last gauge values and every batch duration per stored query', () => {
    const chunk = [
      parsed(A, 1, {
        inputRowsPerSecond: 10,
        batchDuration: 100,
        stateOperators: [{ operatorName: 's', numRowsTotal: 5, numRowsUpdated: 1 }],
      }),
      parsed(B, 1, { inputRowsPerSecond: 99, batchDuration: 300 }),
      parsed(A, 2, {
        inputRowsPerSecond: 20,
        batchDuration: 200,
        sluice: { queryVersion: 1, instance: 'a-0', rateLimit: null, invalidRows: 0 },
      }),
      parsed(A.toUpperCase(), 3, { batchDuration: 50 }),
    ];
    // B's rows were not stored (unknown query): it must not show up in the metrics.
    expect(summarise(chunk, new Set([A]))).toEqual([
      { queryId: A, inputRowsPerSecond: 20, batchDurations: [0.1, 0.2, 0.05], stateRows: 0, rateLimit: null },
    ]);
  });

  it('reports nothing for a chunk of unknown queries', () => {
    expect(summarise([parsed(B, 1, {})], new Set())).toEqual([]);
  });
});
