import { describe, expect, it } from 'vitest';
import { compileSpec, formatErrors, type CompileResult, type SpecError } from './index';
import { DESIGN_SPEC } from './testing/spec-text';

function compiled(text: string): Extract<CompileResult, { ok: true }> {
  const result = compileSpec(text);
  if (!result.ok) throw new Error(formatErrors(result.errors, 'spec'));
  return result;
}

function errorsOf(text: string): SpecError[] {
  const result = compileSpec(text);
  if (result.ok) throw new Error('expected the spec to be rejected');
  return result.errors;
}

describe('compileSpec: the ARCHITECTURE.md example', () => {
  it('compiles to a normalised spec', () => {
    const { spec, warnings } = compiled(DESIGN_SPEC);
    expect(spec.name).toBe('clicks-per-user');
    expect(spec.sources['clicks']).toEqual({
      kafka: { topic: 'clicks', startingOffsets: 'earliest' },
      format: 'json',
      schema: { user_id: 'string', url: 'string', ts: 'timestamp', bytes: 'long' },
      watermark: { column: 'ts', delayMs: 10_000 },
    });
    expect(spec.sink).toEqual({
      postgres: { table: 'clicks_per_user', key: ['window_start', 'user_id'], connection: 'default' },
    });
    expect(spec.outputMode).toBe('update');
    expect(spec.trigger).toEqual({ processingTimeMs: 2000 });
    expect(spec.options).toEqual({
      maxOffsetsPerTrigger: 100000,
      numShufflePartitions: 8,
      failOnDataLoss: true,
    });
    expect(warnings).toEqual([]);
  });

  it('compiles to a windowed aggregation plan with hashed operators', () => {
    const { plan, planHash } = compiled(DESIGN_SPEC);
    expect(plan.kind).toBe('aggregate');
    expect(plan.sourceTopics).toEqual(['clicks']);
    expect(plan.numShufflePartitions).toBe(8);
    expect(plan.operators.map((op) => op.id)).toEqual(['scan', 'filter', 'aggregate', 'project']);
    for (const op of plan.operators) expect(op.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.output).toEqual([
      { name: 'window_start', type: 'timestamp' },
      { name: 'user_id', type: 'string' },
      { name: 'clicks', type: 'long' },
      { name: 'bytes', type: 'long' },
    ]);
    const aggregate = plan.operators.find((op) => op.op === 'aggregate');
    expect(aggregate).toMatchObject({
      window: { column: 'ts', sizeMs: 60_000, slideMs: 60_000 },
      stateSchema: {
        key: [
          { name: 'window.start', type: 'timestamp' },
          { name: 'window.end', type: 'timestamp' },
          { name: 'user_id', type: 'string' },
        ],
        value: [
          { name: 'count(*)', type: 'long' },
          { name: 'sum(bytes)', type: 'long' },
        ],
      },
    });
  });

  it('accepts the same spec as JSON, and its own normalised output', () => {
    const fromYaml = compiled(DESIGN_SPEC);
    const fromJson = compiled(JSON.stringify({ ...fromYaml.spec }));
    expect(fromJson.spec).toEqual(fromYaml.spec);
    expect(fromJson.planHash).toBe(fromYaml.planHash);
  });

  it('fills in Spark defaults', () => {
    const { spec } = compiled(`name: q
sources: { s: { kafka: { topic: t }, schema: { a: string } } }
sql: SELECT a FROM s
sink: { kafka: { topic: out } }
`);
    expect(spec.sources['s']?.kafka?.startingOffsets).toBe('latest');
    expect(spec.sources['s']?.format).toBe('json');
    expect(spec.outputMode).toBe('append');
    expect(spec.trigger).toEqual({ processingTimeMs: 0 });
    expect(spec.options).toEqual({ numShufflePartitions: 8, failOnDataLoss: true });
  });

  it('formats errors as FILE:LINE:COL lines in file order', () => {
    const text = formatErrors(
      [
        { path: 'sql', line: 9, column: 3, message: 'b' },
        { path: '', line: 2, column: 1, message: 'a' },
      ],
      'q.yaml',
    );
    expect(text).toBe('q.yaml:2:1 a\nq.yaml:9:3 sql: b');
  });

  it('never throws, whatever the input', () => {
    for (const text of ['', '- 1', 'null', '{', '"just a string"', 'sql: 3', `name: q\nsources: 5`]) {
      expect(() => errorsOf(text)).not.toThrow();
      expect(errorsOf(text).length).toBeGreaterThan(0);
    }
  });
});
