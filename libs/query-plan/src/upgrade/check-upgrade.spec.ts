import { describe, expect, it } from 'vitest';
import {
  continueBlockers,
  checkUpgrade,
  checkUpgradeText,
  compileSpec,
  formatUpgradeReport,
  type UpgradeChange,
  type UpgradeReport,
} from '../index';
import { DESIGN_SPEC, querySpec, type SpecParts } from '../testing/spec-text';

const WINDOWED =
  "SELECT window.start AS ws, user_id, count(*) AS n, sum(bytes) AS b FROM clicks WHERE url LIKE '/p/%' GROUP BY window(ts, '1 minute'), user_id";
const STATELESS = "SELECT user_id, url FROM clicks WHERE url LIKE '/p/%'";
const DISTINCT = 'SELECT DISTINCT user_id, url FROM clicks';
const PG = '{ postgres: { table: out, key: [ws, user_id] } }';

function report(before: string, after: string): UpgradeReport {
  const result = checkUpgradeText(before, after);
  if (!result.ok) throw new Error(`${result.which}: ${JSON.stringify(result.errors)}`);
  return result.report;
}

/** Upgrades `parts` to `parts` with `change` applied to its text. */
function upgrade(parts: SpecParts, change: (text: string) => string): UpgradeReport {
  const text = querySpec(parts);
  const changed = change(text);
  expect(changed).not.toBe(text);
  return report(text, changed);
}

const ofKind = (r: UpgradeReport, kind: string): UpgradeChange[] => r.changes.filter((c) => c.kind === kind);

/** The report has exactly one change of `kind`, matching `expected`, and `compatible` follows it. */
function expectOne(r: UpgradeReport, kind: string, expected: Partial<UpgradeChange>): void {
  expect(ofKind(r, kind)).toEqual([expect.objectContaining({ kind, ...expected })]);
  expect(r.compatible).toBe(!r.changes.some((c) => c.severity === 'incompatible'));
  if (expected.severity === 'incompatible') expect(r.compatible).toBe(false);
}

describe('checkUpgrade', () => {
  it('reports nothing for the same spec, however formatted', () => {
    expect(report(DESIGN_SPEC, DESIGN_SPEC.replace(/ {2}WHERE/, '  WHERE  '))).toEqual({
      compatible: true,
      changes: [],
    });
  });

  it('takes the ok branch of two CompileResults', () => {
    const a = compileSpec(querySpec({ sql: WINDOWED }));
    const b = compileSpec(querySpec({ sql: WINDOWED, options: '{ numShufflePartitions: 4 }' }));
    if (!a.ok || !b.ok) throw new Error('does not compile');
    expect(checkUpgrade(a, b).compatible).toBe(false);
  });

  it('reports which text does not compile, with its positioned errors', () => {
    const bad = querySpec({ sql: 'SELECT nope FROM clicks' });
    expect(checkUpgradeText(querySpec({ sql: STATELESS }), bad)).toMatchObject({
      ok: false,
      which: 'after',
      errors: [{ path: 'sql', line: 9 }],
    });
  });
});

describe('sources', () => {
  it('number of sources read: incompatible', () => {
    const a = compileSpec(querySpec({ sql: STATELESS }));
    if (!a.ok) throw new Error('does not compile');
    // No spec reads two sources yet (no joins); the rule guards the checkpoint's per-source offsets.
    const scan = a.plan.operators[0];
    if (!scan) throw new Error('no scan');
    const b = {
      ...a,
      plan: {
        ...a.plan,
        operators: [scan, { ...scan, source: 'views', topic: 'views' }, ...a.plan.operators.slice(1)],
      },
    };
    expectOne(checkUpgrade(a, b), 'source.count', {
      severity: 'incompatible',
      operator: 'scan',
      before: '1',
      after: '2',
    });
  });

  it('type of source: incompatible', () => {
    const a = compileSpec(querySpec({ sql: STATELESS }));
    if (!a.ok) throw new Error('does not compile');
    const clicks = a.spec.sources['clicks'];
    if (!clicks) throw new Error('no source');
    const { kafka, ...rest } = clicks;
    // Only Kafka sources exist today; a future kind of source must not resume from Kafka offsets.
    const other = { ...rest, pulsar: kafka } as unknown as typeof clicks;
    const b = { ...a, spec: { ...a.spec, sources: { clicks: other } } };
    expectOne(checkUpgrade(a, b), 'source.type', {
      severity: 'incompatible',
      operator: 'scan',
      path: 'sources.clicks',
      before: 'kafka',
      after: 'pulsar',
    });
  });

  it('Kafka source to file source and back: incompatible (the checkpoint holds the old kind of offsets)', () => {
    const toFile = (t: string) =>
      t
        .replace(/kafka: \{ topic: clicks[^}]*\}/, 'file: { path: in/clicks, format: jsonl }')
        .replace(/\n\s*format: json\b/, '');
    expectOne(upgrade({ sql: STATELESS }, toFile), 'source.type', {
      severity: 'incompatible',
      path: 'sources.clicks',
      before: 'kafka',
      after: 'file',
    });
    const file = toFile(querySpec({ sql: STATELESS }));
    expectOne(report(file, querySpec({ sql: STATELESS })), 'source.type', { before: 'file', after: 'kafka' });
    // Another directory is other files: incompatible as another topic is.
    expect(report(file, file.replace('in/clicks', 'in/other')).compatible).toBe(false);
    // A different cap on files per batch changes nothing already read.
    expect(
      report(file, file.replace('format: jsonl', 'format: jsonl, maxFilesPerTrigger: 2')).compatible,
    ).toBe(true);
  });

  it('subscribed topic: incompatible', () => {
    const r = upgrade({ sql: STATELESS }, (t) => t.replace('topic: clicks', 'topic: clicks-v2'));
    expectOne(r, 'source.topic', {
      severity: 'incompatible',
      operator: 'scan',
      path: 'sources.clicks.kafka.topic',
      before: 'clicks',
      after: 'clicks-v2',
    });
  });

  it('rate options (maxOffsetsPerTrigger and co.): allowed', () => {
    const r = upgrade({ sql: WINDOWED, options: '{ maxOffsetsPerTrigger: 1000 }' }, (t) =>
      t.replace('maxOffsetsPerTrigger: 1000', 'maxOffsetsPerTrigger: 50, minOffsetsPerTrigger: 10'),
    );
    expect(ofKind(r, 'options.rate')).toEqual([
      expect.objectContaining({
        severity: 'allowed',
        path: 'options.maxOffsetsPerTrigger',
        before: '1000',
        after: '50',
      }),
      expect.objectContaining({ severity: 'allowed', path: 'options.minOffsetsPerTrigger', after: '10' }),
    ]);
    expect(r).toMatchObject({ compatible: true });
    expect(r.changes).toHaveLength(2);
  });

  it('stateStore (memory ↔ lmdb, set or unset): allowed, the plan hash unchanged', () => {
    const toLmdb = upgrade({ sql: WINDOWED, options: '{ stateStore: memory }' }, (t) =>
      t.replace('stateStore: memory', 'stateStore: lmdb'),
    );
    expectOne(toLmdb, 'options.stateStore', {
      severity: 'allowed',
      path: 'options.stateStore',
      before: 'memory',
      after: 'lmdb',
    });
    expect(toLmdb.changes).toHaveLength(1);
    // Unset is memory: setting memory explicitly is no change; lmdb → unset is a switch back.
    expect(
      upgrade({ sql: WINDOWED, options: '{ stateStore: memory }' }, (t) =>
        t.replace('stateStore: memory', 'numShufflePartitions: 8'),
      ).changes,
    ).toEqual([]);
    expectOne(
      upgrade({ sql: WINDOWED, options: '{ stateStore: lmdb }' }, (t) =>
        t.replace('stateStore: lmdb', 'numShufflePartitions: 8'),
      ),
      'options.stateStore',
      { severity: 'allowed', before: 'lmdb', after: 'memory' },
    );
    const a = compileSpec(querySpec({ sql: WINDOWED }));
    const b = compileSpec(querySpec({ sql: WINDOWED, options: '{ stateStore: lmdb }' }));
    if (!a.ok || !b.ok) throw new Error('does not compile');
    expect(b.spec.options.stateStore).toBe('lmdb');
    expect(a.spec.options.stateStore).toBeUndefined();
    expect(b.planHash).toBe(a.planHash);
  });

  it('stateStore: anything but memory or lmdb is refused, naming the field', () => {
    const r = compileSpec(querySpec({ sql: WINDOWED, options: '{ stateStore: rocksdb }' }));
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors).toEqual([
        expect.objectContaining({
          path: 'options.stateStore',
          message: expect.stringContaining('"memory" or "lmdb"'),
        }),
      ]);
  });

  it('startingOffsets, trigger, failOnDataLoss, query name: allowed', () => {
    const r = report(
      DESIGN_SPEC,
      DESIGN_SPEC.replace('startingOffsets: earliest', 'startingOffsets: latest')
        .replace('processingTime: 2 seconds', 'availableNow: true')
        .replace('maxOffsetsPerTrigger: 100000', 'maxOffsetsPerTrigger: 100000, failOnDataLoss: false')
        .replace('name: clicks-per-user', 'name: clicks-by-user'),
    );
    expect(r.compatible).toBe(true);
    expect(r.changes.map((c) => [c.kind, c.severity])).toEqual([
      ['options.failOnDataLoss', 'allowed'],
      ['trigger', 'allowed'],
      ['name', 'allowed'],
      ['source.startingOffsets', 'allowed'],
    ]);
  });

  it('format: incompatible', () => {
    const r = upgrade({ sql: STATELESS }, (t) => t.replace('format: json', 'format: csv'));
    expectOne(r, 'source.format', {
      severity: 'incompatible',
      operator: 'scan',
      path: 'sources.clicks.format',
      before: 'json',
      after: 'csv',
    });
  });

  it('schema field that feeds state: incompatible', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace('bytes: long', 'bytes: double'));
    expectOne(r, 'source.schema', {
      severity: 'incompatible',
      operator: 'scan',
      path: 'sources.clicks.schema.bytes',
      before: 'long',
      after: 'double',
    });
    // The buffer of sum(bytes) changes type with it.
    expectOne(r, 'aggregate.functions', {
      severity: 'incompatible',
      before: '[count(*): long, sum(bytes): long]',
      after: '[count(*): long, sum(bytes): double]',
    });
  });

  it('schema field added, even to a stateful query: allowed', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace('ts: timestamp', 'ts: timestamp, extra: string'));
    expectOne(r, 'source.schema', {
      severity: 'allowed',
      path: 'sources.clicks.schema.extra',
      after: 'string',
    });
    expect(ofKind(r, 'source.schema')[0]).not.toHaveProperty('before');
  });

  it('schema field only read by the filter in front of the state: caveat', () => {
    const sql =
      "SELECT window.start AS ws, count(*) AS n FROM clicks WHERE bytes > 100 GROUP BY window(ts, '1 minute')";
    const r = upgrade({ sql }, (t) => t.replace('bytes: long', 'bytes: int'));
    expectOne(r, 'source.schema', {
      severity: 'caveat',
      operator: 'scan',
      path: 'sources.clicks.schema.bytes',
      before: 'long',
      after: 'int',
    });
    expect(r.compatible).toBe(true);
  });

  it('schema field that only feeds projections: allowed', () => {
    const r = upgrade({ sql: 'SELECT user_id, cast(bytes AS string) AS b FROM clicks' }, (t) =>
      t.replace('bytes: long', 'bytes: int'),
    );
    expectOne(r, 'source.schema', {
      severity: 'allowed',
      operator: 'scan',
      path: 'sources.clicks.schema.bytes',
      before: 'long',
      after: 'int',
    });
    expect(r.compatible).toBe(true);
  });

  it('a declared source the SQL does not read, and a renamed source on the same topic: allowed', () => {
    const text = querySpec({ sql: STATELESS });
    const r = report(
      text,
      text.replace(
        '  clicks:',
        '  views:\n    kafka: { topic: views }\n    schema: { a: string }\n  clicks:',
      ),
    );
    expectOne(r, 'source.unread', { severity: 'allowed', path: 'sources.views', after: 'views' });
    const renamed = report(text, text.replace('  clicks:', '  c2:').replace('FROM clicks', 'FROM c2'));
    expectOne(renamed, 'source.name', { severity: 'allowed', before: 'clicks', after: 'c2' });
    expect(renamed.compatible).toBe(true);
  });
});

describe('projections and filters', () => {
  it('projection: allowed, naming the output columns', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace('count(*) AS n', 'count(*) * 2 AS n2'));
    expectOne(r, 'projection', {
      severity: 'allowed',
      operator: 'project',
      before: '[ws timestamp, user_id string, n long, b long]',
      after: '[ws timestamp, user_id string, n2 long, b long]',
    });
    expect(r).toMatchObject({ compatible: true });
    expect(r.changes).toHaveLength(1);
  });

  it('filter of a stateless query: allowed', () => {
    const r = upgrade({ sql: STATELESS }, (t) => t.replace("'/p/%'", "'/q/%'"));
    expectOne(r, 'filter', {
      severity: 'allowed',
      operator: 'filter',
      before: "url LIKE '/p/%'",
      after: "url LIKE '/q/%'",
    });
    expect(r.changes).toHaveLength(1);
  });

  it('filter that feeds a stateful operator: caveat', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace(" WHERE url LIKE '/p/%'", ''));
    expectOne(r, 'filter', {
      severity: 'caveat',
      operator: 'filter',
      before: "url LIKE '/p/%'",
      after: 'none',
    });
    expect(r).toMatchObject({ compatible: true });
  });

  it('projection of a DISTINCT query is its dedupe key: incompatible', () => {
    const r = upgrade({ sql: DISTINCT }, (t) => t.replace('user_id, url', 'user_id'));
    expectOne(r, 'dedupe.columns', {
      severity: 'incompatible',
      operator: 'dedupe',
      before: '[user_id string, url string]',
      after: '[user_id string]',
    });
  });
});

describe('stateful operators', () => {
  it('grouping keys: incompatible, before → after', () => {
    const r = upgrade({ sql: WINDOWED }, (t) =>
      t.replace('), user_id', '), lower(user_id)').replace('ws, user_id,', 'ws, lower(user_id) AS u,'),
    );
    expectOne(r, 'aggregate.keys', {
      severity: 'incompatible',
      operator: 'aggregate',
      path: 'sql',
      before: '[user_id string]',
      after: '[lower(user_id) string]',
    });
  });

  it('aggregate functions: incompatible', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace('sum(bytes)', 'max(bytes)'));
    expectOne(r, 'aggregate.functions', {
      severity: 'incompatible',
      operator: 'aggregate',
      before: '[count(*): long, sum(bytes): long]',
      after: '[count(*): long, max(bytes): long]',
    });
  });

  it('aggregate state buffers (avg keeps sum and count): incompatible', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace('sum(bytes)', 'avg(bytes)'));
    expectOne(r, 'aggregate.functions', {
      severity: 'incompatible',
      operator: 'aggregate',
      after: '[count(*): long, avg(bytes): struct<sum:double,count:long>]',
    });
  });

  it('window size: incompatible (Spark accepts it)', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace("'1 minute'", "'2 minutes'"));
    expectOne(r, 'aggregate.window', {
      severity: 'incompatible',
      operator: 'aggregate',
      before: 'window(ts, 60000 ms, 60000 ms)',
      after: 'window(ts, 120000 ms, 120000 ms)',
    });
    expect(r.changes).toHaveLength(1);
  });

  it('window slide: incompatible', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace("'1 minute')", "'1 minute', '30 seconds')"));
    expectOne(r, 'aggregate.window', {
      severity: 'incompatible',
      operator: 'aggregate',
      before: 'window(ts, 60000 ms, 60000 ms)',
      after: 'window(ts, 60000 ms, 30000 ms)',
    });
  });

  it('dedupe columns (options.dedupe): incompatible', () => {
    const r = upgrade({ sql: STATELESS, options: '{ dedupe: { columns: [user_id] } }' }, (t) =>
      t.replace('columns: [user_id]', 'columns: [user_id, url]'),
    );
    expectOne(r, 'dedupe.columns', {
      severity: 'incompatible',
      operator: 'dedupe',
      before: '[user_id string]',
      after: '[user_id string, url string]',
    });
  });

  it('watermark column: incompatible, naming the operator', () => {
    const r = upgrade({ sql: DISTINCT }, (t) =>
      t.replace('ts: timestamp,', 'ts: timestamp, ts2: timestamp,').replace('column: ts,', 'column: ts2,'),
    );
    expectOne(r, 'watermark.column', {
      severity: 'incompatible',
      operator: 'dedupe',
      path: 'sources.clicks.watermark.column',
      before: 'ts',
      after: 'ts2',
    });
  });

  it('watermark added to a stateful query: incompatible', () => {
    const r = report(querySpec({ sql: DISTINCT, watermark: false }), querySpec({ sql: DISTINCT }));
    expectOne(r, 'watermark.column', {
      severity: 'incompatible',
      operator: 'dedupe',
      before: 'none',
      after: 'ts',
    });
  });

  it('watermark delay: allowed (and no backstop change for the dedupe expiry)', () => {
    for (const sql of [WINDOWED, DISTINCT]) {
      const r = upgrade({ sql }, (t) => t.replace('delay: 10 seconds', 'delay: 1 minute'));
      expect(r).toEqual({
        compatible: true,
        changes: [
          expect.objectContaining({
            kind: 'watermark.delay',
            severity: 'allowed',
            before: '10000 ms',
            after: '60000 ms',
          }),
        ],
      });
    }
  });

  it('watermark of a stateless query: allowed', () => {
    const r = report(querySpec({ sql: STATELESS }), querySpec({ sql: STATELESS, watermark: false }));
    expectOne(r, 'watermark.column', { severity: 'allowed', operator: 'scan', before: 'ts' });
    expect(r.compatible).toBe(true);
  });

  it('stateful operator added, removed or replaced: incompatible', () => {
    const stateless = querySpec({ sql: STATELESS });
    const windowed = querySpec({ sql: WINDOWED });
    const distinct = querySpec({ sql: DISTINCT });
    expectOne(report(stateless, windowed), 'stateful.added', {
      severity: 'incompatible',
      operator: 'aggregate',
      before: 'none',
      after: 'aggregate',
    });
    expectOne(report(windowed, stateless), 'stateful.removed', {
      severity: 'incompatible',
      operator: 'aggregate',
      before: 'aggregate',
      after: 'none',
    });
    expectOne(report(windowed, distinct), 'stateful.replaced', {
      severity: 'incompatible',
      operator: 'dedupe',
      before: 'aggregate',
      after: 'dedupe',
    });
  });

  it('any other definition change of the stateful operator: incompatible (hash backstop)', () => {
    // Grouping by the event-time column itself sets eventTimeKey, which no named rule covers.
    const a = compileSpec(querySpec({ sql: 'SELECT ts, count(*) AS n FROM clicks GROUP BY ts' }));
    if (!a.ok) throw new Error('does not compile');
    const op = a.plan.operators.find((o) => o.op === 'aggregate');
    if (op?.op !== 'aggregate') throw new Error('no aggregate');
    const { eventTimeKey: _dropped, ...rest } = op;
    const b = {
      ...a,
      plan: {
        ...a.plan,
        operators: a.plan.operators.map((o) => (o === op ? { ...rest, hash: 'f'.repeat(64) } : o)),
      },
    };
    expectOne(checkUpgrade(a, b), 'stateful.changed', {
      severity: 'incompatible',
      operator: 'aggregate',
      before: op.hash.slice(0, 12),
      after: 'f'.repeat(12),
    });
  });
});

describe('plan and output mode', () => {
  it('numShufflePartitions: incompatible', () => {
    const r = upgrade({ sql: WINDOWED }, (t) =>
      t.replace('options: {}', 'options: { numShufflePartitions: 16 }'),
    );
    expectOne(r, 'plan.numShufflePartitions', {
      severity: 'incompatible',
      path: 'options.numShufflePartitions',
      before: '8',
      after: '16',
    });
    expect(r.changes).toHaveLength(1);
  });

  it('plan format version: incompatible', () => {
    const a = compileSpec(querySpec({ sql: STATELESS }));
    if (!a.ok) throw new Error('does not compile');
    const older = { ...a, plan: { ...a.plan, version: 0 as unknown as typeof a.plan.version } };
    expectOne(checkUpgrade(older, a), 'plan.version', { severity: 'incompatible', before: '0', after: '1' });
  });

  it('output mode of a stateful query: caveat, with the reason', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace('outputMode: update', 'outputMode: append'));
    expectOne(r, 'plan.outputMode', {
      severity: 'caveat',
      path: 'outputMode',
      before: 'update',
      after: 'append',
      message: expect.stringContaining('emitted again'),
    });
    const toComplete = upgrade({ sql: WINDOWED }, (t) =>
      t.replace('outputMode: update', 'outputMode: complete'),
    );
    expectOne(toComplete, 'plan.outputMode', {
      severity: 'caveat',
      message: expect.stringContaining('miss them'),
    });
  });

  it('output mode of a stateless query: allowed', () => {
    const r = upgrade({ sql: STATELESS, outputMode: 'append' }, (t) =>
      t.replace('outputMode: append', 'outputMode: update'),
    );
    expectOne(r, 'plan.outputMode', { severity: 'allowed', before: 'append', after: 'update' });
  });
});

describe('sinks', () => {
  it('sink type Kafka ↔ PostgreSQL: caveat, with the reason', () => {
    const kafka = querySpec({ sql: WINDOWED, sink: '{ kafka: { topic: out } }' });
    const pg = querySpec({ sql: WINDOWED, sink: PG });
    expectOne(report(kafka, pg), 'sink.type', {
      severity: 'caveat',
      path: 'sink',
      before: 'kafka',
      after: 'postgres',
      message: expect.stringContaining('upserted by key'),
    });
    expectOne(report(pg, kafka), 'sink.type', {
      severity: 'caveat',
      before: 'postgres',
      after: 'kafka',
      message: expect.stringContaining('marker'),
    });
  });

  it('file sink: another directory allowed, another format or other columns in the same one a caveat', () => {
    const file = (path: string, format: string) => `{ file: { path: ${path}, format: ${format} } }`;
    const base = { sql: STATELESS, sink: file('out', 'jsonl'), outputMode: 'append' };
    expectOne(
      upgrade(base, (t) => t.replace('path: out', 'path: out2')),
      'sink.path',
      { severity: 'allowed', path: 'sink.file.path', before: 'out', after: 'out2' },
    );
    expectOne(
      upgrade(base, (t) => t.replace('format: jsonl', 'format: parquet')),
      'sink.format',
      {
        severity: 'caveat',
        before: 'jsonl',
        after: 'parquet',
        message: expect.stringContaining('both formats'),
      },
    );
    expectOne(
      upgrade(base, (t) => t.replace('SELECT user_id, url', 'SELECT user_id')),
      'sink.columns',
      { severity: 'caveat', path: 'sink.file.path', message: expect.stringContaining('two schemas') },
    );
    expectOne(
      report(querySpec({ ...base, sink: '{ kafka: { topic: out } }' }), querySpec(base)),
      'sink.type',
      {
        severity: 'caveat',
        before: 'kafka',
        after: 'file',
        message: expect.stringContaining('_sluice_metadata'),
      },
    );
  });

  it('sink topic rename: allowed', () => {
    const r = upgrade({ sql: WINDOWED, sink: '{ kafka: { topic: out } }' }, (t) =>
      t.replace('topic: out', 'topic: out-v2'),
    );
    expectOne(r, 'sink.topic', {
      severity: 'allowed',
      path: 'sink.kafka.topic',
      before: 'out',
      after: 'out-v2',
    });
    expect(r.changes).toHaveLength(1);
  });

  it('Kafka record key: caveat', () => {
    const r = upgrade({ sql: WINDOWED, sink: '{ kafka: { topic: out } }' }, (t) =>
      t.replace('topic: out', 'topic: out, key: [user_id]'),
    );
    expectOne(r, 'sink.key', {
      severity: 'caveat',
      path: 'sink.kafka.key',
      before: '[]',
      after: '[user_id]',
    });
  });

  it('sink table rename: allowed, even with new columns', () => {
    const r = upgrade({ sql: WINDOWED, sink: PG }, (t) =>
      t.replace('table: out', 'table: out_v2').replace('sum(bytes) AS b', 'sum(bytes) AS b, max(bytes) AS m'),
    );
    expectOne(r, 'sink.table', {
      severity: 'allowed',
      path: 'sink.postgres.table',
      before: 'out',
      after: 'out_v2',
    });
    expect(ofKind(r, 'sink.columns')).toEqual([]);
  });

  it('sink connection: caveat (another database)', () => {
    const r = upgrade({ sql: WINDOWED, sink: PG }, (t) =>
      t.replace('key: [ws, user_id]', 'key: [ws, user_id], connection: warehouse'),
    );
    expectOne(r, 'sink.connection', {
      severity: 'caveat',
      path: 'sink.postgres.connection',
      before: 'default',
      after: 'warehouse',
    });
    expect(r.compatible).toBe(true);
    // Per strategy: in place a caveat; a new checkpoint continuing from the old offsets is refused.
    expect(ofKind(r, 'sink.connection')[0]!.message).toMatch(
      /commit markers.*In place:.*written again.*continuing from the old offsets: refused.*earliest or latest/,
    );
    expect(continueBlockers(r).map((c) => c.kind)).toEqual(['sink.connection']);
  });

  it('nothing blocks a continue when the sink stays in its database (a table rename, a Kafka topic rename)', () => {
    const renamed = upgrade({ sql: WINDOWED, sink: PG }, (t) => t.replace('table: out', 'table: out_v2'));
    expect(continueBlockers(renamed)).toEqual([]);
    const retopic = upgrade({ sql: WINDOWED, sink: '{ kafka: { topic: out_t } }' }, (t) =>
      t.replace('topic: out_t', 'topic: out_t2'),
    );
    expect(ofKind(retopic, 'sink.topic')).toHaveLength(1);
    expect(continueBlockers(retopic)).toEqual([]);
  });

  it('a new output column or key on the same table: incompatible (the table is not altered)', () => {
    const r = upgrade({ sql: WINDOWED, sink: PG }, (t) =>
      t.replace('sum(bytes) AS b', 'sum(bytes) AS b, max(bytes) AS m'),
    );
    expectOne(r, 'sink.columns', { severity: 'incompatible', path: 'sink.postgres.table', after: 'm long' });
    const rekeyed = upgrade({ sql: WINDOWED, sink: PG }, (t) =>
      t.replace('key: [ws, user_id]', 'key: [user_id, ws]'),
    );
    expectOne(rekeyed, 'sink.key', {
      severity: 'incompatible',
      path: 'sink.postgres.key',
      before: '[ws, user_id]',
      after: '[user_id, ws]',
    });
  });

  it('an output column dropped from the same table: caveat', () => {
    const r = upgrade({ sql: WINDOWED, sink: PG }, (t) => t.replace(', sum(bytes) AS b', ''));
    expectOne(r, 'sink.columns', { severity: 'caveat', before: 'b long' });
  });
});

describe('formatUpgradeReport', () => {
  it('prints one line per change and the verdict', () => {
    const r = upgrade({ sql: WINDOWED }, (t) => t.replace("'1 minute'", "'2 minutes'"));
    expect(formatUpgradeReport(r).split('\n')).toEqual([
      expect.stringMatching(/^incompatible aggregate\.window \(aggregate sql\): window changed/),
      'incompatible: the new version needs a new checkpoint (1 incompatible, 0 caveat, 0 allowed)',
    ]);
    expect(formatUpgradeReport({ compatible: true, changes: [] })).toBe(
      'no changes\ncompatible: the new version can resume from the old checkpoint (0 incompatible, 0 caveat, 0 allowed)',
    );
  });
});
