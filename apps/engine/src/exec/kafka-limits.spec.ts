import { describe, expect, it } from 'vitest';
import { chunkBySize, maxRecordBytes, messageBytes } from './kafka-limits';

describe('chunkBySize', () => {
  it('keeps every send within the limit, in order, losing nothing', () => {
    const messages = Array.from({ length: 20_000 }, (_, i) => ({
      key: String(i),
      value: `{"id":${i},"pad":"${'z'.repeat(60)}"}`,
    }));
    const chunks = chunkBySize(messages, 1_048_588);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks)
      expect(c.reduce((n, m) => n + messageBytes(m), 0)).toBeLessThanOrEqual(maxRecordBytes(1_048_588));
    expect(chunks.flat()).toEqual(messages);
  });

  it('sends a small output in one piece and an oversized record alone', () => {
    expect(chunkBySize([{ value: 'a' }, { value: 'b' }], 1_048_588)).toHaveLength(1);
    const big = { value: 'x'.repeat(2_000) };
    expect(chunkBySize([{ value: 'a' }, big, { value: 'b' }], 1_500)).toEqual([
      [{ value: 'a' }],
      [big],
      [{ value: 'b' }],
    ]);
  });

  it('counts UTF-8 bytes and headers', () => {
    expect(messageBytes({ value: 'é' })).toBe(messageBytes({ value: 'ab' }));
    expect(messageBytes({ value: 'a', headers: { h: 'v' } })).toBeGreaterThan(messageBytes({ value: 'a' }));
  });
});
