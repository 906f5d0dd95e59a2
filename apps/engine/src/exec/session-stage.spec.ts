// The session-window stage over a real state store (directory checkpoint): one state entry per
// key, eviction by session end, emission by output mode, and restore from the checkpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileSpec, instantiate, type OutputMode, type QueryExecutor } from '@sluice/query-plan';
import { CheckpointStore } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import type { SourceRecord } from '../source/group-reader';
import { InMemoryStateStore, type StateStore } from '../state/state-store';
import { runShuffleStage } from './shuffle-stage';

let dir: string;
let checkpoint: CheckpointStore;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-sessions-'));
  checkpoint = new CheckpointStore(new FileBlobStore(dir), dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function executorFor(outputMode: OutputMode): QueryExecutor {
  const compiled = compileSpec(`name: s
sources:
  clicks:
    kafka: { topic: clicks }
    format: json
    schema: { user_id: string, n: long, ts: timestamp }
    watermark: { column: ts, delay: 0 seconds }
sql: |
  SELECT user_id, session_window.start AS s, session_window.end AS e, sum(n) AS total
  FROM clicks GROUP BY user_id, session_window(ts, '10 seconds')
sink: { console: {} }
outputMode: ${outputMode}
`);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return instantiate(compiled.plan);
}

/** Repartition records as stage 1 writes them. */
function records(executor: QueryExecutor, rows: Array<{ user_id: string; n: number; ts: number }>) {
  return rows.map((r, i): SourceRecord => {
    const [g] = executor.groups(r);
    return {
      topic: 'rep',
      partition: 0,
      offset: i,
      key: null,
      value: Buffer.from(JSON.stringify({ k: g!.key, v: g!.values, r })),
      timestamp: '0',
      headers: {},
    } as unknown as SourceRecord;
  });
}

const run = (
  executor: QueryExecutor,
  state: StateStore,
  outputMode: OutputMode,
  watermarkMs: number,
  rows: Array<{ user_id: string; n: number; ts: number }>,
) =>
  runShuffleStage({
    executor,
    outputMode,
    state,
    records: records(executor, rows),
    watermarkMs,
    watermarkEnabled: true,
  });

const sorted = (rows: Array<Record<string, unknown>>) =>
  [...rows].sort((a, b) => String(a.user_id).localeCompare(String(b.user_id)) || Number(a.s) - Number(b.s));

describe('session stage', () => {
  it('append: keeps one entry per key, emits and removes sessions the watermark closed, survives a restore', async () => {
    const executor = executorFor('append');
    let state = await InMemoryStateStore.load(checkpoint, 'shuffle-0', 'aggregate', -1);
    const first = run(executor, state, 'append', 0, [
      { user_id: 'a', n: 1, ts: 1_000 },
      { user_id: 'a', n: 2, ts: 30_000 },
      { user_id: 'b', n: 4, ts: 5_000 },
    ]);
    expect(first.rows).toEqual([]);
    expect(state.size).toBe(2); // one entry per key, a's two sessions in one
    await state.commit(0);

    state = await InMemoryStateStore.load(checkpoint, 'shuffle-0', 'aggregate', 0);
    // Watermark 20 s: a's [1 s, 11 s) and b's [5 s, 15 s) are closed; a row at 12 s is late.
    const second = run(executor, state, 'append', 20_000, [
      { user_id: 'a', n: 8, ts: 12_000 },
      { user_id: 'a', n: 16, ts: 35_000 },
    ]);
    expect(second.numRowsDroppedByWatermark).toBe(1);
    expect(sorted(second.rows)).toEqual([
      { user_id: 'a', s: 1_000, e: 11_000, total: 1 },
      { user_id: 'b', s: 5_000, e: 15_000, total: 4 },
    ]);
    expect(state.size).toBe(1);
    expect(JSON.parse(JSON.stringify(state.get('["a"]')))).toEqual([[30_000, 45_000, [18]]]);
  });

  it('update: emits only the sessions changed in the batch, merged ones once', async () => {
    const executor = executorFor('update');
    const state = await InMemoryStateStore.load(checkpoint, 'shuffle-0', 'aggregate', -1);
    run(executor, state, 'update', 0, [
      { user_id: 'a', n: 1, ts: 0 },
      { user_id: 'a', n: 2, ts: 20_000 },
      { user_id: 'b', n: 4, ts: 0 },
    ]);
    const bridged = run(executor, state, 'update', 0, [
      { user_id: 'a', n: 8, ts: 10_000 },
      { user_id: 'a', n: 16, ts: 12_000 },
    ]);
    expect(bridged.rows).toEqual([{ user_id: 'a', s: 0, e: 30_000, total: 27 }]);
  });

  it('complete: emits every session every batch and evicts nothing', async () => {
    const executor = executorFor('complete');
    const state = await InMemoryStateStore.load(checkpoint, 'shuffle-0', 'aggregate', -1);
    run(executor, state, 'complete', 0, [{ user_id: 'a', n: 1, ts: 0 }]);
    const later = run(executor, state, 'complete', 100_000, [{ user_id: 'b', n: 2, ts: 200_000 }]);
    expect(sorted(later.rows)).toEqual([
      { user_id: 'a', s: 0, e: 10_000, total: 1 },
      { user_id: 'b', s: 200_000, e: 210_000, total: 2 },
    ]);
    expect(state.size).toBe(2);
  });
});
