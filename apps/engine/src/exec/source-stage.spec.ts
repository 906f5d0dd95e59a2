import { describe, expect, it } from 'vitest';
import { compileSpec, instantiate } from '@sluice/query-plan';
import type { SourceRecord } from '../source/group-reader';
import type { DeadLetter } from './dead-letter';
import { postgresRowGuard } from './record-guards';
import { runSourceStage, runSourceStageInSlices } from './source-stage';

const SPEC = `name: t
sources:
  clicks:
    kafka: { topic: in }
    format: json
    schema: { user_id: string, bytes: long }
sql: SELECT user_id, count(*) AS clicks, sum(bytes) AS bytes FROM clicks GROUP BY user_id
sink:
  postgres: { table: t, key: [user_id] }
outputMode: update
`;

function setup() {
  const compiled = compileSpec(SPEC, 't.yaml');
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const executor = instantiate(compiled.plan);
  return { compiled, executor, guard: postgresRowGuard(executor.output, ['user_id']) };
}

let offset = 0;
const rec = (value: string | Buffer): SourceRecord => ({
  topic: 'in',
  partition: 0,
  offset: offset++,
  key: null,
  value: Buffer.isBuffer(value) ? value : Buffer.from(value),
  timestampMs: 0,
  headers: {},
});
const click = (user: string, bytes = 1) => rec(JSON.stringify({ user_id: user, bytes }));

describe('runSourceStage (aggregation into PostgreSQL)', () => {
  it('routes good records and makes each bad one a dead letter with its reason', () => {
    const { compiled, executor, guard } = setup();
    const records = [
      click('a'),
      click('k'.repeat(3000)),
      rec(Buffer.from([0x7b, 0xff, 0x7d])),
      click('nul\u0000'),
      click('b'),
      rec('not json'),
    ];
    const res = runSourceStage({
      queryId: 'q',
      source: compiled.spec.sources.clicks!,
      executor,
      numShufflePartitions: 4,
      records,
      guard,
      repartition: { topic: 'rep', maxMessageBytes: 1_048_588 },
      dlqMaxRecordBytes: 1_000_000,
    });
    expect(res.shuffled.map((m) => m.key)).toEqual(['["a"]', '["b"]']);
    expect(res.invalidRows).toBe(4);
    const dead = res.deadLetters.map((m) => JSON.parse(String(m.value)) as DeadLetter);
    expect(dead[0]?.reason).toContain('is 3000 bytes');
    expect(dead.map((d) => [d.source?.offset, d.stage, d.reason.slice(0, 20)])).toEqual([
      [records[1]!.offset, 'output', 'sink key (user_id) i'],
      [records[2]!.offset, 'input', 'value is not valid U'],
      [records[3]!.offset, 'output', 'column "user_id" con'],
      [records[5]!.offset, 'input', 'invalid JSON: Unexpe'],
    ]);
  });

  it('refuses a record whose repartition record would not fit its topic', () => {
    const { compiled, executor } = setup();
    const res = runSourceStage({
      queryId: 'q',
      source: compiled.spec.sources.clicks!,
      executor,
      numShufflePartitions: 4,
      records: [click('x'.repeat(5000)), click('y')],
      repartition: { topic: 'rep', maxMessageBytes: 4096 },
      dlqMaxRecordBytes: 1_000_000,
    });
    expect(res.shuffled).toHaveLength(1);
    expect((JSON.parse(String(res.deadLetters[0]?.value)) as DeadLetter).reason).toMatch(
      /^record is \d+ bytes in rep, which takes at most/,
    );
  });
});

describe('runSourceStage (sliding windows, a continuing lineage replaying a partly aggregated record)', () => {
  const sliding = (window: string) => `name: s
sources:
  clicks:
    kafka: { topic: in }
    format: json
    schema: { user_id: string, ts: timestamp }
sql: SELECT window.start AS ws, user_id, count(*) AS clicks FROM clicks GROUP BY window(ts, ${window}), user_id
sink:
  postgres: { table: s, key: [ws, user_id] }
outputMode: update
`;
  const stage = (window: string, partialReplay?: Parameters<typeof runSourceStage>[0]['partialReplay']) => {
    const compiled = compileSpec(sliding(window), 's.yaml');
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const record = rec(JSON.stringify({ user_id: 'a', ts: '2026-01-01T00:00:45Z' }));
    const res = runSourceStage({
      queryId: 'q',
      source: compiled.spec.sources.clicks!,
      executor: instantiate(compiled.plan),
      numShufflePartitions: 4,
      records: [record],
      repartition: { topic: 'rp', maxMessageBytes: 1_000_000 },
      dlqMaxRecordBytes: 1_000_000,
      partialReplay,
    });
    return res.shuffled.map((m) => JSON.parse(String(m.value)) as { k: string; o: unknown[] });
  };

  it('tags each row with the record origin, its group count and hash', () => {
    const rows = stage("'1 minute', '30 seconds'");
    expect(rows).toHaveLength(2);
    const [o0, o1] = rows.map((r) => r.o);
    expect(o0).toEqual(o1);
    expect(o0).toHaveLength(5);
    expect(o0![3]).toBe(2);
    // A tumbling window has one group per record: the plain origin.
    expect(stage("'1 minute'")[0]!.o).toHaveLength(3);
  });

  it('keeps only the groups the old version never aggregated when the groups are the same', () => {
    const all = stage("'1 minute', '30 seconds'");
    const h = String(all[0]!.o[4]);
    const kept = stage("'1 minute', '30 seconds'", () => ({ h, keys: [all[1]!.k] }));
    expect(kept.map((r) => r.k)).toEqual([all[1]!.k]);
    // Still described as the whole record (a later continue sees the same count and hash).
    expect(kept[0]!.o.slice(3)).toEqual(all[1]!.o.slice(3));
  });

  it('processes the record whole when its groups differ from the old version (another window)', () => {
    const old = stage("'1 minute', '30 seconds'");
    const rows = stage("'2 minutes', '30 seconds'", () => ({ h: String(old[0]!.o[4]), keys: [old[1]!.k] }));
    expect(rows).toHaveLength(4);
  });
});

describe('runSourceStageInSlices', () => {
  it('gives the event loop a turn between slices and returns what one call returns', async () => {
    const { compiled, executor, guard } = setup();
    const records = Array.from({ length: 25 }, (_, i) => (i % 7 === 3 ? rec('bad') : click(`u${i % 5}`, i)));
    const args = {
      queryId: 'q',
      source: compiled.spec.sources.clicks!,
      executor,
      numShufflePartitions: 4,
      records,
      guard,
      repartition: { topic: 'rep', maxMessageBytes: 1_048_588 },
      dlqMaxRecordBytes: 1_000_000,
    };
    let pauses = 0;
    const sliced = await runSourceStageInSlices(args, 10, async () => {
      pauses++;
    });
    expect(pauses).toBe(2);
    const whole = runSourceStage(args);
    expect(sliced.numInputRows).toBe(25);
    expect(sliced.invalidRows).toBe(whole.invalidRows);
    expect(sliced.invalidRows).toBeGreaterThan(0);
    expect(sliced.shuffled.map((m) => [m.key, m.partition])).toEqual(
      whole.shuffled.map((m) => [m.key, m.partition]),
    );
    expect(sliced.deadLetters.map((d) => d.value)).toEqual(whole.deadLetters.map((d) => d.value));
  });
});
