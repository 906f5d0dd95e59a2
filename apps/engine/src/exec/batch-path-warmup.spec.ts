import { describe, expect, it } from 'vitest';
import { compileSpec, decodeRecord, instantiate, type SourceSpec } from '@sluice/query-plan';
import { createSink } from '../sinks/create-sink';
import { syntheticRecordValue, warmBatchPath, warmupSkipReason } from './batch-path-warmup';

const spec = (sql: string, sink = 'kafka: { topic: out }', extra = '') => `name: t
sources:
  clicks:
    kafka: { topic: in }
    format: json
    schema: { user_id: string, n: long, i: int, d: double, ok: boolean, ts: timestamp }
${extra}sql: ${sql}
sink:
  ${sink}
outputMode: ${sql.includes('GROUP BY') ? 'update' : 'append'}
`;

function setup(text: string) {
  const compiled = compileSpec(text, 't.yaml');
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const executor = instantiate(compiled.plan);
  const sink = createSink({
    spec: compiled.spec.sink,
    columns: executor.output.map((c) => ({ name: c.name, type: c.type })),
    scope: 't',
    deadLetterTopic: 't.dlq',
    sinkPostgresUrl: undefined,
    fileSinkRoot: undefined,
    warn: () => undefined,
  });
  return { compiled, executor, sink, source: compiled.spec.sources.clicks! };
}

const args = (s: ReturnType<typeof setup>, records: number) => ({
  queryId: 't',
  source: s.source,
  topic: 'in',
  executor: s.executor,
  sink: s.sink,
  guard: undefined,
  numShufflePartitions: 4,
  dlqMaxRecordBytes: 1_000_000,
  records,
});

describe('syntheticRecordValue', () => {
  it('gives records every column of the schema decodes, in each format', () => {
    const schema = {
      user_id: 'string',
      n: 'long',
      i: 'int',
      d: 'double',
      ok: 'boolean',
      ts: 'timestamp',
    } as const;
    for (const format of ['json', 'csv'] as const) {
      const source = { kafka: { topic: 'in' }, format, schema } as unknown as SourceSpec;
      for (const i of [0, 1, 99_999, 100_001]) {
        const decoded = decodeRecord(source, Buffer.from(syntheticRecordValue(source, i)));
        expect(decoded.ok, `${format} ${i}`).toBe(true);
        if (decoded.ok) expect(Object.keys(decoded.row).sort()).toEqual(Object.keys(schema).sort());
      }
    }
    const raw = { kafka: { topic: 'in' }, format: 'raw', schema: {} } as unknown as SourceSpec;
    expect(decodeRecord(raw, Buffer.from(syntheticRecordValue(raw, 3)))).toEqual({
      ok: true,
      row: { value: 'warm-up record 3' },
    });
  });
});

describe('warmBatchPath', () => {
  it('runs every record through decode, the stage and the produce encoding of a stateless plan', async () => {
    const s = setup(spec('SELECT user_id, n FROM clicks WHERE ok'));
    const res = await warmBatchPath(args(s, 1_234));
    // ok alternates (i % 2 === 0): half the records pass the WHERE.
    expect(res).toMatchObject({ records: 1_234, rows: 617 });
    expect(res.encodedBytes).toBeGreaterThan(617 * 20);
    expect(res.skipped).toBeUndefined();
  });

  it('keys a stateful plan for its repartition topic', async () => {
    const s = setup(spec('SELECT user_id, count(*) AS c FROM clicks GROUP BY user_id'));
    const res = await warmBatchPath({
      ...args(s, 600),
      repartition: { topic: 't.repartition', maxMessageBytes: 1_048_588, format: 'batch' },
    });
    expect(res.records).toBe(600);
    expect(res.encodedBytes).toBeGreaterThan(600 * 10);
  });

  it('stops between rounds when asked, and does nothing for 0 records', async () => {
    const s = setup(spec('SELECT user_id FROM clicks'));
    let rounds = 0;
    const stopped = await warmBatchPath({ ...args(s, 5_000), stopped: () => rounds++ >= 2 });
    expect(stopped.records).toBe(1_000);
    expect(await warmBatchPath(args(s, 0))).toMatchObject({ records: 0, skipped: 'disabled (0 records)' });
  });

  it('skips a stream–static join, whose table is not loaded before the groups join', () => {
    const s = setup(
      spec(
        'SELECT c.user_id, u.name FROM clicks c JOIN users u ON c.user_id = u.user_id',
        'kafka: { topic: out }',
        `tables:
  users:
    table: public.users
    connection: main
    schema: { user_id: string, name: string }
    refresh: 1 minute
`,
      ),
    );
    expect(warmupSkipReason(s.executor)).toMatch(/static join/);
  });
});
