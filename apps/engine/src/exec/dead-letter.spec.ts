import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../source/group-reader';
import { deadLetterMessage, outputRowDeadLetter, type DeadLetter } from './dead-letter';
import { maxRecordBytes, messageBytes } from './kafka-limits';

const record = (value: Buffer | null, key: Buffer | null = Buffer.from('k1')): SourceRecord => ({
  topic: 'in',
  partition: 2,
  offset: 41,
  key,
  value,
  timestampMs: Date.UTC(2026, 0, 1),
  headers: {},
});
const body = (m: { value?: unknown }) => JSON.parse(String(m.value)) as DeadLetter;
const LIMIT = maxRecordBytes(1_048_588);

describe('dead letters', () => {
  it('carry the reason, the source position and the value as text', () => {
    const m = deadLetterMessage('q', record(Buffer.from('{"a":1')), 'invalid JSON', LIMIT);
    expect(m.key).toBe('in:2:41');
    expect(body(m)).toEqual({
      queryId: 'q',
      stage: 'input',
      reason: 'invalid JSON',
      source: { topic: 'in', partition: 2, offset: 41, timestamp: '2026-01-01T00:00:00.000Z' },
      key: 'k1',
      value: '{"a":1',
      encoding: 'utf8',
    });
  });

  it('keep invalid UTF-8 exactly, as base64', () => {
    const raw = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const d = body(deadLetterMessage('q', record(raw, Buffer.from([0xff])), 'bad', LIMIT));
    expect(d.encoding).toBe('base64');
    expect(Buffer.from(d.value!, 'base64')).toEqual(raw);
    expect(d.keyEncoding).toBe('base64');
  });

  it('are cut to fit the DLQ topic, recording the original size (800 KB of invalid UTF-8)', () => {
    const raw = Buffer.alloc(800_000, 0xff);
    const m = deadLetterMessage('q', record(raw), 'value is not valid UTF-8', LIMIT);
    expect(messageBytes(m)).toBeLessThanOrEqual(LIMIT);
    const d = body(m);
    expect(d).toMatchObject({ truncated: true, originalBytes: 800_000, encoding: 'base64' });
    const kept = Buffer.from(d.value!, 'base64');
    expect(kept.length).toBeGreaterThan(700_000);
    expect(kept.equals(raw.subarray(0, kept.length))).toBe(true);
  });

  it('cut text on a character boundary and an oversized key too', () => {
    const text = Buffer.from('🙂'.repeat(400_000), 'utf8'); // 1.6 MB valid UTF-8
    const m = deadLetterMessage('q', record(text, Buffer.alloc(50_000, 0x61)), 'too large', LIMIT);
    expect(messageBytes(m)).toBeLessThanOrEqual(LIMIT);
    const d = body(m);
    expect(d).toMatchObject({
      truncated: true,
      originalBytes: text.length,
      originalKeyBytes: 50_000,
      encoding: 'utf8',
    });
    expect(d.key).toHaveLength(1024);
    expect(d.value!.length % 2).toBe(0); // whole surrogate pairs only
    expect(text.toString('utf8').startsWith(d.value!)).toBe(true);
  });

  it('leave a small dead letter untouched and mark nothing', () => {
    const d = body(deadLetterMessage('q', record(Buffer.from('x')), 'r', LIMIT));
    expect(d.truncated).toBeUndefined();
    expect(d.originalBytes).toBeUndefined();
  });

  it('describe an aggregated output row by task and batch', () => {
    const m = outputRowDeadLetter(
      'q',
      { task: 'shuffle.3', batchId: 7 },
      { user_id: 'a\u0000b', clicks: 2 },
      'NUL',
      LIMIT,
    );
    expect(m.key).toBe('shuffle.3:7');
    expect(body(m)).toMatchObject({
      stage: 'output',
      source: null,
      batch: { task: 'shuffle.3', batchId: 7 },
      encoding: 'json',
    });
    expect(JSON.parse(body(m).value!)).toEqual({ user_id: 'a\u0000b', clicks: 2 });
  });
});
