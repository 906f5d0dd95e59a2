import { describe, expect, it } from 'vitest';
import { decodeRecord, type SourceSpec } from '../index';

const schema: SourceSpec['schema'] = {
  user_id: 'string',
  n: 'int',
  bytes: 'long',
  score: 'double',
  ok: 'boolean',
  ts: 'timestamp',
};
const source = (format: SourceSpec['format']): SourceSpec => ({
  kafka: { topic: 't', startingOffsets: 'latest' },
  format,
  schema: format === 'raw' ? { value: 'string' } : schema,
});
const buf = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('decodeRecord json', () => {
  it('coerces values to the schema; timestamps become epoch milliseconds', () => {
    const record = {
      user_id: 'u1',
      n: 3,
      bytes: 1234567890123,
      score: 0.5,
      ok: true,
      ts: '2026-01-01T00:00:01.500Z',
      extra: 'ignored',
    };
    expect(decodeRecord(source('json'), buf(JSON.stringify(record)))).toEqual({
      ok: true,
      row: {
        user_id: 'u1',
        n: 3,
        bytes: 1234567890123,
        score: 0.5,
        ok: true,
        ts: Date.UTC(2026, 0, 1, 0, 0, 1, 500),
      },
    });
    const epoch = decodeRecord(
      source('json'),
      buf(JSON.stringify({ ...record, ts: 1767225600000, user_id: 42 })),
    );
    expect(epoch).toMatchObject({ ok: true, row: { ts: 1767225600000, user_id: '42' } });
    const local = decodeRecord(source('json'), buf(JSON.stringify({ ...record, ts: '2026-01-01 00:00:00' })));
    expect(local).toMatchObject({ ok: true, row: { ts: Date.UTC(2026, 0, 1) } });
  });

  it.each([
    ['{"user_id":"u"', /^invalid JSON/],
    ['[1,2]', /^expected a JSON object/],
    ['{"n":1,"bytes":1,"score":1,"ok":true,"ts":1}', /^column "user_id" is missing/],
    ['{"user_id":null,"n":1,"bytes":1,"score":1,"ok":true,"ts":1}', /^column "user_id" is null/],
    [
      '{"user_id":"u","n":1.5,"bytes":1,"score":1,"ok":true,"ts":1}',
      /^column "n" \(int\): expected a 32-bit integer, got 1.5/,
    ],
    [
      '{"user_id":"u","n":1,"bytes":"7","score":1,"ok":true,"ts":1}',
      /^column "bytes" \(long\): expected an integer, got "7"/,
    ],
    ['{"user_id":"u","n":1,"bytes":1,"score":1,"ok":"yes","ts":1}', /^column "ok" \(boolean\)/],
    ['{"user_id":"u","n":1,"bytes":1,"score":1,"ok":true,"ts":"yesterday"}', /^column "ts" \(timestamp\)/],
  ])('rejects %s', (text, reason) => {
    const result = decodeRecord(source('json'), buf(text));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('decodeRecord csv', () => {
  it('maps fields to schema columns by position, with RFC 4180 quoting', () => {
    expect(decodeRecord(source('csv'), buf('"u, ""one""",7,99,2.5,TRUE,2026-01-01T00:00:00Z\r\n'))).toEqual({
      ok: true,
      row: { user_id: 'u, "one"', n: 7, bytes: 99, score: 2.5, ok: true, ts: Date.UTC(2026, 0, 1) },
    });
  });

  it.each([
    ['u,1,2,3,true', /^expected 6 CSV fields \(user_id, n, bytes, score, ok, ts\), got 5/],
    ['u,x,2,3,true,1', /^column "n" \(int\)/],
    ['u,1,,3,true,1', /^column "bytes" \(long\): expected an integer, got ""/],
    ['"u,1,2,3,true,1', /^invalid CSV/],
  ])('rejects %s', (text, reason) => {
    const result = decodeRecord(source('csv'), buf(text));
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });
});

describe('decodeRecord raw', () => {
  it('yields the value as text', () => {
    expect(decodeRecord(source('raw'), buf('hello ✓'))).toEqual({ ok: true, row: { value: 'hello ✓' } });
  });

  it('rejects a null value (tombstone) in every format', () => {
    for (const format of ['raw', 'json', 'csv'] as const)
      expect(decodeRecord(source(format), null)).toEqual({ ok: false, reason: 'record value is null' });
  });
});
