import { describe, expect, it } from 'vitest';
import { compileSpec, type SpecError } from '../index';

function errorsOf(text: string): SpecError[] {
  const result = compileSpec(text);
  if (result.ok) throw new Error('expected the spec to be rejected');
  return result.errors;
}

const VALID_TAIL = `sql: SELECT a FROM s
sink: { console: {} }
`;

describe('spec errors name the line and column', () => {
  it('reports YAML syntax errors where the parser stopped', () => {
    const errors = errorsOf(`name: q
sources:
  s: { kafka: { topic: t }, schema: { a: string }
sql: SELECT a FROM s
`);
    expect(errors[0]).toMatchObject({ path: '', line: 4 });
  });

  it('reports duplicate keys at the second key', () => {
    const errors = errorsOf(`name: q
name: r
${VALID_TAIL}`);
    expect(errors[0]).toMatchObject({ line: 2, column: 1, message: expect.stringMatching(/unique/) });
  });

  it('reports an empty spec and a spec that is not a mapping', () => {
    expect(errorsOf('')[0]).toMatchObject({ line: 1, column: 1, message: 'the spec is empty' });
    expect(errorsOf('\n- a\n')[0]).toMatchObject({ line: 2, column: 1 });
  });

  it('points schema errors at the offending value', () => {
    const errors = errorsOf(`name: q
sources:
  s:
    kafka: { topic: t, startingOffsets: earliest }
    format: xml
    schema: { a: string, b: strin }
    watermark: { column: a, delay: 10 parsecs }
sql: SELECT a FROM s
sink:
  postgres: { table: out, key: [a, 3] }
outputMode: upsert
trigger: { processingTime: 2 seconds, once: true }
`);
    expect(errors).toEqual([
      {
        path: 'sources.s.format',
        line: 5,
        column: 13,
        message: expect.stringContaining('"json"|"csv"|"raw"'),
      },
      { path: 'sources.s.schema.b', line: 6, column: 29, message: expect.stringContaining('column type') },
      {
        path: 'sources.s.watermark.delay',
        line: 7,
        column: 36,
        message: expect.stringContaining('duration'),
      },
      {
        path: 'sink.postgres.key[1]',
        line: 10,
        column: 36,
        message: expect.stringContaining('expected string'),
      },
      { path: 'outputMode', line: 11, column: 13, message: expect.stringContaining('append') },
      { path: 'trigger', line: 12, column: 10, message: expect.stringContaining('exactly one') },
    ]);
  });

  it('points at unknown keys themselves and names missing keys', () => {
    const errors = errorsOf(`name: q
sources:
  s: { kafka: { topic: t, partitions: 3 }, schema: { a: string } }
sink: { console: {} }
`);
    expect(errors).toContainEqual({
      path: 'sources.s.kafka.partitions',
      line: 3,
      column: 27,
      message: 'unknown key "partitions"',
    });
    expect(errors).toContainEqual({ path: 'sql', line: 1, column: 1, message: 'missing required key "sql"' });
  });

  it('checks the watermark column against the schema', () => {
    const errors = errorsOf(`name: q
sources:
  s:
    kafka: { topic: t }
    schema: { a: string }
    watermark: { column: a, delay: 5 seconds }
${VALID_TAIL}`);
    expect(errors).toEqual([
      {
        path: 'sources.s.watermark.column',
        line: 6,
        column: 26,
        message: 'the watermark column must be a timestamp, "a" is string',
      },
    ]);
  });

  it('checks startingOffsets against the source topic', () => {
    const errors = errorsOf(`name: q
sources:
  s:
    kafka: { topic: t, startingOffsets: '{"other":{"0":5}}' }
    schema: { a: string }
${VALID_TAIL}`);
    expect(errors[0]).toMatchObject({ path: 'sources.s.kafka.startingOffsets', line: 4, column: 41 });
  });

  it('accepts Spark startingOffsets JSON, as an object or as text', () => {
    const result = compileSpec(`name: q
sources:
  s:
    kafka: { topic: t, startingOffsets: { t: { "0": 23, "1": -2 } } }
    schema: { a: string }
${VALID_TAIL}`);
    expect(result.ok && result.spec.sources['s']?.kafka?.startingOffsets).toEqual({
      t: { '0': 23, '1': -2 },
    });
  });

  it('requires exactly one sink', () => {
    const errors = errorsOf(`name: q
sources: { s: { kafka: { topic: t }, schema: { a: string } } }
sql: SELECT a FROM s
sink: { console: {}, kafka: { topic: out } }
`);
    expect(errors).toEqual([
      {
        path: 'sink',
        line: 4,
        column: 7,
        message: 'a sink is exactly one of kafka, postgres, file or console (got kafka, console)',
      },
    ]);
  });

  it('keeps a file sink inside its root and in append mode', () => {
    const spec = (path: string, mode = 'append') => `name: q
sources: { s: { kafka: { topic: t }, schema: { a: string } } }
sql: SELECT a FROM s
sink: { file: { path: ${path} } }
outputMode: ${mode}
`;
    for (const bad of ['../etc', '/etc/cron.d', 'a/../../b', '.hidden', 'a//b'])
      expect(errorsOf(spec(JSON.stringify(bad)))).toEqual([
        expect.objectContaining({
          path: 'sink.file.path',
          line: 4,
          message: expect.stringContaining('expected a relative path'),
        }),
      ]);
    expect(errorsOf(spec('out/clicks', 'update'))).toEqual([
      expect.objectContaining({
        path: 'outputMode',
        message:
          'the file sink supports only outputMode append (got update): a written file is never rewritten',
      }),
    ]);
    const ok = compileSpec(spec('out/clicks-v1.2'));
    expect(ok.ok && ok.spec.sink).toEqual({ file: { path: 'out/clicks-v1.2', format: 'jsonl' } });
  });

  it('reads a file source: a path inside the file root, jsonl or csv, an optional file cap', () => {
    const spec = (file: string, extra = '') => `name: q
sources:
  s:
    file: ${file}
    schema: { a: string }${extra}
${VALID_TAIL}`;
    const ok = compileSpec(spec('{ path: in/clicks, format: csv, maxFilesPerTrigger: 3 }'));
    expect(ok.ok && ok.spec.sources['s']).toEqual({
      file: { path: 'in/clicks', format: 'csv', maxFilesPerTrigger: 3 },
      format: 'csv',
      schema: { a: 'string' },
    });
    const jsonl = compileSpec(spec('{ path: in, format: jsonl }'));
    expect(jsonl.ok && jsonl.spec.sources['s']?.format).toBe('json');
    for (const bad of ['../etc', '/etc', 'a/../../b', '.hidden'])
      expect(errorsOf(spec(`{ path: ${JSON.stringify(bad)}, format: jsonl }`))).toEqual([
        expect.objectContaining({
          path: 'sources.s.file.path',
          line: 4,
          message: expect.stringContaining('expected a relative path'),
        }),
      ]);
    expect(errorsOf(spec('{ path: in, format: parquet }'))).toEqual([
      expect.objectContaining({ path: 'sources.s.file.format', line: 4, column: 31 }),
    ]);
    expect(errorsOf(spec('{ path: in, format: jsonl, maxFilesPerTrigger: 0 }'))).toEqual([
      expect.objectContaining({
        path: 'sources.s.file.maxFilesPerTrigger',
        line: 4,
        message: 'maxFilesPerTrigger is at least 1',
      }),
    ]);
    expect(errorsOf(spec('{ path: in, format: jsonl }', '\n    format: csv'))).toEqual([
      expect.objectContaining({
        path: 'sources.s.format',
        line: 6,
        message: 'a file source takes its format from file.format (jsonl or csv); remove format',
      }),
    ]);
  });

  it('requires exactly one of kafka or file in a source', () => {
    const errors = errorsOf(`name: q
sources:
  s:
    kafka: { topic: t }
    file: { path: in, format: jsonl }
    schema: { a: string }
${VALID_TAIL}`);
    expect(errors).toEqual([
      expect.objectContaining({
        path: 'sources.s',
        line: 4,
        message: 'a source is exactly one of kafka or file (got both)',
      }),
    ]);
    expect(
      errorsOf(`name: q
sources: { s: { schema: { a: string } } }
${VALID_TAIL}`),
    ).toEqual([
      expect.objectContaining({ path: 'sources.s', message: 'a source is exactly one of kafka or file' }),
    ]);
  });
});
