// The repartition topic's two record forms (one row per record, and batches of rows): stage 1
// writes batches that split at the topic's size limit, every stage-2 reader reads both forms, and
// a row that fails in a batch is a dead letter of its own with its origin.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Message } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileSpec, instantiate, type QueryExecutor, type SourceSpec } from '@sluice/query-plan';
import { CheckpointStore } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import type { SourceRecord } from '../source/group-reader';
import { InMemoryStateStore } from '../state/state-store';
import { deadLetterMessage, type DeadLetter } from './dead-letter';
import { maxRecordBytes, messageBytes } from './kafka-limits';
import {
  BATCH_MARKER,
  decodeShuffledRecord,
  packBatchRecords,
  pendingRow,
  repartitionFormatOf,
  type RepartitionFormat,
} from './shuffle-codec';
import { runShuffleStage } from './shuffle-stage';
import { runSourceStage, runSourceStageInSlices, type ShuffledRow } from './source-stage';

function compiled(yaml: string): { executor: QueryExecutor; source: SourceSpec } {
  const c = compileSpec(yaml, 't.yaml');
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  return { executor: instantiate(c.plan), source: c.spec.sources.clicks! };
}

const COUNT_BY_USER = `name: t
sources:
  clicks:
    kafka: { topic: in }
    format: json
    schema: { user_id: string, bytes: long }
sql: SELECT user_id, count(*) AS clicks, sum(bytes) AS bytes FROM clicks GROUP BY user_id
sink: { console: {} }
outputMode: update
`;

const input = (values: string[]): SourceRecord[] =>
  values.map((v, offset) => ({
    topic: 'in',
    partition: 0,
    offset,
    key: null,
    value: Buffer.from(v),
    timestampMs: 0,
    headers: {},
  }));

/** Messages as the topic returns them (stage 2's input). */
const asRecords = (messages: Message[]): SourceRecord[] =>
  messages.map((m, offset) => ({
    topic: 'rep',
    partition: m.partition ?? 0,
    offset,
    key: m.key == null ? null : Buffer.from(m.key),
    value: m.value == null ? null : Buffer.from(m.value),
    timestampMs: 0,
    headers: {},
  }));

/** The rows of every record, per shuffle partition, in order. */
const rowsByPartition = (messages: Message[]): Map<number, ShuffledRow[]> => {
  const out = new Map<number, ShuffledRow[]>();
  for (const record of asRecords(messages))
    out.set(record.partition, [...(out.get(record.partition) ?? []), ...decodeShuffledRecord(record)]);
  return out;
};

const clicks = (n: number, users = 37): string[] =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ user_id: `user-${i % users}`, bytes: i }));

function stage1(format: RepartitionFormat, values: string[], maxMessageBytes = 1_048_588) {
  const { executor, source } = compiled(COUNT_BY_USER);
  return runSourceStage({
    queryId: 'q',
    source,
    executor,
    numShufflePartitions: 4,
    records: input(values),
    repartition: { topic: 'rep', maxMessageBytes, format },
    dlqMaxRecordBytes: 1_000_000,
  });
}

describe('repartition record forms', () => {
  it('batch records carry the same rows, per shuffle partition and in order, as one-row records', async () => {
    const values = clicks(500);
    const rows = stage1('rows', values);
    const batch = stage1('batch', values);
    expect(rows.shuffled).toHaveLength(500);
    // One record per shuffle partition here (the rows fit a quarter of the topic's limit).
    expect(batch.shuffled.map((m) => m.partition)).toEqual([0, 1, 2, 3]);
    for (const m of batch.shuffled) {
      expect(m.key).toBe(String(m.partition));
      expect(Buffer.from(m.value!)[0]).toBe(BATCH_MARKER);
    }
    // The same rows, less the group values: stage 2 recovers them from the key.
    const { executor } = compiled(COUNT_BY_USER);
    const oneRow = rowsByPartition(rows.shuffled);
    for (const list of oneRow.values())
      for (const row of list) {
        expect(executor.groupValues(row.k)).toEqual(row.v);
        delete row.v;
      }
    expect(rowsByPartition(batch.shuffled)).toEqual(oneRow);

    // Decoded in slices (the event loop's turns), the rows are packed once: the same records.
    const { source } = compiled(COUNT_BY_USER);
    const sliced = await runSourceStageInSlices(
      {
        queryId: 'q',
        source,
        executor,
        numShufflePartitions: 4,
        records: input(values),
        repartition: { topic: 'rep', maxMessageBytes: 1_048_588, format: 'batch' },
        dlqMaxRecordBytes: 1_000_000,
      },
      64,
      async () => undefined,
    );
    expect(sliced.shuffled).toEqual(batch.shuffled);
  });

  it('splits batches at a quarter of the topic limit and dead-letters only a row that fits no record', () => {
    const maxMessageBytes = 8192;
    const huge = JSON.stringify({ user_id: 'x'.repeat(9000), bytes: 1 });
    const values = [...clicks(150), huge, ...clicks(150)];
    const res = stage1('batch', values, maxMessageBytes);
    const target = Math.floor(maxRecordBytes(maxMessageBytes) / 4);
    expect(res.shuffled.length).toBeGreaterThan(8);
    for (const m of res.shuffled) expect(messageBytes(m)).toBeLessThanOrEqual(target);
    // Every other row went on, in order.
    const rows = [...rowsByPartition(res.shuffled).values()].flat();
    expect(rows).toHaveLength(300);
    expect(res.invalidRows).toBe(1);
    const dead = JSON.parse(String(res.deadLetters[0]!.value)) as DeadLetter;
    expect(dead).toMatchObject({ stage: 'input', source: { topic: 'in', offset: 150 } });
    expect(dead.reason).toMatch(/bytes in rep, which takes at most/);
    // The same rows as one record per row (which refuses the large one too).
    const rows1 = stage1('rows', values, maxMessageBytes);
    expect(rows1.invalidRows).toBe(1);
    const oneRow = rowsByPartition(rows1.shuffled);
    for (const list of oneRow.values()) for (const row of list) delete row.v;
    expect(rowsByPartition(res.shuffled)).toEqual(oneRow);
  });

  it('a row larger than a quarter of the limit travels in a record of its own', () => {
    const small = pendingRow(1, '{"k":"a","v":{},"r":{}}');
    const big = pendingRow(1, JSON.stringify({ k: 'b', v: {}, r: { s: 'y'.repeat(5000) } }));
    const records = packBatchRecords([small, big, small], 8192);
    expect(records.map((m) => decodeShuffledRecord(asRecords([m])[0]!).map((r) => r.k))).toEqual([
      ['a'],
      ['b'],
      ['a'],
    ]);
  });

  it('stage 2 folds a topic holding both forms as it folds one-row records', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sluice-shuffle-codec-'));
    try {
      const checkpoint = new CheckpointStore(new FileBlobStore(dir), dir);
      const { executor } = compiled(COUNT_BY_USER);
      const values = clicks(200, 5);
      const fold = async (task: string, records: SourceRecord[]) => {
        const state = await InMemoryStateStore.load(checkpoint, task, 'aggregate', -1);
        const res = runShuffleStage({
          executor,
          outputMode: 'update',
          state,
          records,
          watermarkMs: 0,
          watermarkEnabled: false,
        });
        return { rows: res.rows, numInputRows: res.numInputRows };
      };
      const old = asRecords(stage1('rows', values.slice(0, 80)).shuffled);
      const upgraded = asRecords(stage1('batch', values.slice(80)).shuffled);
      const mixed = await fold('mixed', [...old, ...upgraded]);
      const rowsOnly = await fold('rows', asRecords(stage1('rows', values).shuffled));
      expect(mixed.numInputRows).toBe(200);
      const byUser = (rows: Array<Record<string, unknown>>) =>
        [...rows].sort((a, b) => String(a.user_id).localeCompare(String(b.user_id)));
      expect(byUser(mixed.rows)).toEqual(byUser(rowsOnly.rows));
      expect(byUser(mixed.rows)[0]).toEqual({ user_id: 'user-0', clicks: 40, bytes: 3900 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a record of no known form with a clear error', () => {
    const [notJson] = asRecords([{ value: '\u0001[]', partition: 2 }]);
    expect(() => decodeShuffledRecord(notJson!)).toThrow(
      /repartition record rep\[2\]@0 cannot be read \(not a format this engine knows/,
    );
    const [notRows] = asRecords([{ value: `${String.fromCharCode(BATCH_MARKER)}[{"x":1}]` }]);
    expect(() => decodeShuffledRecord(notRows!)).toThrow(/does not hold shuffled rows/);
  });

  it('checkpoints created before batching keep one row per record', () => {
    expect(repartitionFormatOf({})).toBe('rows');
    expect(repartitionFormatOf({ repartitionFormat: 'batch' })).toBe('batch');
  });
});

describe('a row that fails in a batch record', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sluice-shuffle-codec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is a dead letter of its own, with its origin; the other rows of the batch are folded', async () => {
    const { executor } = compiled(`name: s
sources:
  clicks:
    kafka: { topic: clicks }
    format: json
    schema: { user_id: string, n: long, ts: timestamp }
sql: |
  SELECT user_id, session_window.start AS s, session_window.end AS e, sum(n) AS total
  FROM clicks GROUP BY user_id, session_window(ts, '10 seconds')
sink: { console: {} }
outputMode: update
`);
    const checkpoint = new CheckpointStore(new FileBlobStore(dir), dir);
    const state = await InMemoryStateStore.load(checkpoint, 'shuffle-0', 'aggregate', -1);
    // A key whose stored sessions cannot be read: folding its row fails.
    state.put('["bad"]', 'not sessions');
    const rows: ShuffledRow[] = ['a', 'bad', 'b'].map((user, i) => {
      const r = { user_id: user, n: 1, ts: 1_000 };
      return { k: executor.groups(r)[0]!.key, v: {}, r, o: ['clicks', 0, 10 + i] };
    });
    const records = asRecords(
      packBatchRecords(
        rows.map((r) => pendingRow(0, JSON.stringify(r))),
        1_048_588,
      ),
    );
    expect(records).toHaveLength(1);
    const res = runShuffleStage({
      executor,
      outputMode: 'update',
      state,
      records,
      watermarkMs: 0,
      watermarkEnabled: false,
    });
    expect(res.rows.map((r) => r.user_id).sort()).toEqual(['a', 'b']);
    expect(res.failedRecords).toHaveLength(1);
    const failed = res.failedRecords[0]!;
    expect(failed.origin).toEqual({ topic: 'clicks', partition: 0, offset: 11 });
    const dead = JSON.parse(
      String(deadLetterMessage('q', failed.record, failed.reason, 1_000_000, 'input', failed.origin).value),
    ) as DeadLetter;
    expect(dead).toMatchObject({
      stage: 'input',
      source: { topic: 'rep', partition: 0, offset: 0 },
      origin: { topic: 'clicks', partition: 0, offset: 11 },
      key: '["bad"]',
    });
    expect(dead.reason).toMatch(/^aggregation failed: session state/);
    // The row alone, not the batch it came in.
    expect(JSON.parse(dead.value!)).toEqual(rows[1]);
  });
});
