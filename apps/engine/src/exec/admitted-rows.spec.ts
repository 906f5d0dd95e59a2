// The one place that decides which shuffled rows a stage folds: every row counted, the maximum
// event time over all of them (late ones too), rows behind the watermark dropped and counted,
// both record forms (one row, a batch) read alike.
import { describe, expect, it } from 'vitest';
import { compileSpec, instantiate, type QueryExecutor } from '@sluice/query-plan';
import type { SourceRecord } from '../source/group-reader';
import { forEachAdmittedRow, isBehindWatermark } from './admitted-rows';
import { BATCH_MARKER } from './shuffle-codec';
import { emptyShuffleResult } from './shuffle-result';

function executor(): QueryExecutor {
  const compiled = compileSpec(`name: w
sources:
  clicks:
    kafka: { topic: clicks }
    format: json
    schema: { user_id: string, ts: timestamp }
    watermark: { column: ts, delay: 0 seconds }
sql: |
  SELECT user_id, count(*) AS n FROM clicks GROUP BY user_id, window(ts, '10 seconds')
sink: { console: {} }
outputMode: update
`);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return instantiate(compiled.plan);
}

const record = (offset: number, value: Buffer): SourceRecord =>
  ({
    topic: 'rep',
    partition: 0,
    offset,
    key: null,
    value,
    timestamp: '0',
    headers: {},
  }) as unknown as SourceRecord;

function shuffled(ex: QueryExecutor, r: { user_id: string; ts: number }) {
  const [g] = ex.groups(r);
  return { k: g!.key, r };
}

describe('forEachAdmittedRow', () => {
  const ex = executor();
  const rows = [
    { user_id: 'a', ts: 25_000 },
    { user_id: 'b', ts: 5_000 }, // behind a 20 s watermark
    { user_id: 'c', ts: 40_000 },
  ];
  // The first row as a record of its own, the other two in one batch record.
  const records = [
    record(0, Buffer.from(JSON.stringify(shuffled(ex, rows[0]!)))),
    record(
      1,
      Buffer.concat([
        Buffer.from([BATCH_MARKER]),
        Buffer.from(JSON.stringify([shuffled(ex, rows[1]!), shuffled(ex, rows[2]!)])),
      ]),
    ),
  ];

  it('counts every row, keeps the maximum event time of all and drops those behind the watermark', () => {
    const result = emptyShuffleResult(0);
    const seen: Array<[number, string, number | undefined]> = [];
    forEachAdmittedRow(
      { executor: ex, records, watermarkMs: 20_000, watermarkEnabled: true },
      result,
      (rec, body, t) => seen.push([rec.offset, String(body.r.user_id), t]),
    );
    expect(seen).toEqual([
      [0, 'a', 25_000],
      [1, 'c', 40_000],
    ]);
    expect(result.numInputRows).toBe(3);
    expect(result.numRowsDroppedByWatermark).toBe(1);
    expect(result.maxEventTimeMs).toBe(40_000);
  });

  it('drops nothing before the first watermark or with the watermark off', () => {
    for (const args of [
      { watermarkMs: 0, watermarkEnabled: true },
      { watermarkMs: 20_000, watermarkEnabled: false },
    ]) {
      const result = emptyShuffleResult(0);
      const users: string[] = [];
      forEachAdmittedRow({ executor: ex, records, ...args }, result, (_r, body) =>
        users.push(String(body.r.user_id)),
      );
      expect(users).toEqual(['a', 'b', 'c']);
      expect(result.numRowsDroppedByWatermark).toBe(0);
      expect(result.numInputRows).toBe(3);
    }
  });

  it('isBehindWatermark: strictly older than the watermark, never without an event time', () => {
    const on = { executor: ex, records: [], watermarkMs: 20_000, watermarkEnabled: true };
    expect(isBehindWatermark(on, 19_999)).toBe(true);
    expect(isBehindWatermark(on, 20_000)).toBe(false);
    expect(isBehindWatermark(on, undefined)).toBe(false);
  });

  it('a record in no known form fails the batch with where it is', () => {
    const bad = [record(7, Buffer.from('{not json'))];
    expect(() =>
      forEachAdmittedRow(
        { executor: ex, records: bad, watermarkMs: 0, watermarkEnabled: true },
        emptyShuffleResult(0),
        () => {
          throw new Error('must not be called');
        },
      ),
    ).toThrow(/repartition record rep\[0\]@7 cannot be read/);
  });
});
