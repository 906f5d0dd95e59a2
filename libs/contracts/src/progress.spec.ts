import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStreamingQueryProgress, ProgressParseError } from './progress';

const fixturePath = join(__dirname, '../test/fixtures/spark-progress-kafka.json');
const sparkJson = (): Record<string, unknown> =>
  JSON.parse(readFileSync(fixturePath, 'utf8')) as Record<string, unknown>;

function errorOf(input: unknown): ProgressParseError {
  try {
    parseStreamingQueryProgress(input);
  } catch (e) {
    if (e instanceof ProgressParseError) return e;
    throw e;
  }
  throw new Error('expected a ProgressParseError');
}

describe('parseStreamingQueryProgress', () => {
  it('accepts real Spark progress JSON verbatim', () => {
    const p = parseStreamingQueryProgress(sparkJson());
    expect(p.name).toBe('orders_per_minute');
    expect(p.batchId).toBe(311);
    expect(p.sources[0]?.endOffset).toEqual({ orders: { '1': 23040, '0': 23072 } });
    expect(p.sources[0]?.metrics?.avgOffsetsBehindLatest).toBe('0.0');
    expect(p.stateOperators?.[0]?.numRowsDroppedByWatermark).toBe(3);
  });

  it('accepts a null name, numeric offsets and keeps unknown fields', () => {
    const raw: Record<string, unknown> = { ...sparkJson(), name: null, futureField: { x: 1 } };
    (raw.sources as Array<Record<string, unknown>>)[0] = {
      description: 'RateStreamV2',
      startOffset: 10,
      endOffset: 20,
      numInputRows: 10,
    };
    const p = parseStreamingQueryProgress(raw);
    expect(p.name).toBeNull();
    expect(p.sources[0]?.startOffset).toBe(10);
    expect((p as Record<string, unknown>).futureField).toEqual({ x: 1 });
  });

  it('accepts progress without rates (Spark omits NaN/Infinity) and without a sink', () => {
    const raw = sparkJson();
    delete raw.inputRowsPerSecond;
    delete raw.sink;
    expect(parseStreamingQueryProgress(raw).inputRowsPerSecond).toBeUndefined();
  });

  it('names the JSON path of an invalid field', () => {
    const raw = sparkJson();
    (raw.sources as Array<Record<string, unknown>>)[0]!.numInputRows = 'many';
    const e = errorOf(raw);
    expect(e.path).toBe('$.sources[0].numInputRows');
    expect(e.message).toMatch(/^\$\.sources\[0\]\.numInputRows: /);
  });

  it('rejects a missing id, a bad timestamp and a non-object', () => {
    const noId = sparkJson();
    delete noId.id;
    expect(errorOf(noId).path).toBe('$.id');
    expect(errorOf({ ...sparkJson(), timestamp: 'yesterday' }).path).toBe('$.timestamp');
    expect(errorOf('nope').path).toBe('$');
  });

  it('validates the sluice extension', () => {
    const ok = parseStreamingQueryProgress({
      ...sparkJson(),
      sluice: { queryVersion: 2, instance: 'q-0', instances: 2, rateLimit: null, invalidRows: 4 },
    });
    expect(ok.sluice?.invalidRows).toBe(4);
    expect(
      errorOf({
        ...sparkJson(),
        sluice: { queryVersion: 0, instance: 'q-0', rateLimit: null, invalidRows: 0 },
      }).path,
    ).toBe('$.sluice.queryVersion');
  });
});
