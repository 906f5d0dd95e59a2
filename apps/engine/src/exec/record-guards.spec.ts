import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MESSAGE_BYTES } from './kafka-limits';
import {
  firstInvalidUtf8Byte,
  invalidTextReason,
  kafkaRowGuard,
  oversizeRecordReason,
  PG_MAX_KEY_BYTES,
  postgresRowGuard,
} from './record-guards';

describe('UTF-8 check', () => {
  it('accepts valid text, including 4-byte characters', () => {
    expect(firstInvalidUtf8Byte(Buffer.from('héllo 🙂 wörld', 'utf8'))).toBeUndefined();
    expect(invalidTextReason(null)).toBeUndefined();
  });

  it('names the first invalid byte: stray continuation, overlong, surrogate, truncated sequence', () => {
    expect(firstInvalidUtf8Byte(Buffer.from([0x61, 0x80, 0x62]))).toBe(1);
    expect(firstInvalidUtf8Byte(Buffer.from([0x61, 0x62, 0xc0, 0xaf]))).toBe(2); // overlong "/"
    expect(firstInvalidUtf8Byte(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // U+D800 encoded
    expect(firstInvalidUtf8Byte(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1); // cut-off "€"
    expect(invalidTextReason(Buffer.from([0x7b, 0xff, 0x7d]))).toBe(
      'value is not valid UTF-8 (first invalid byte at offset 1 of 3)',
    );
  });
});

describe('PostgreSQL row guard', () => {
  const guard = postgresRowGuard(
    [
      { name: 'user_id', type: 'string' },
      { name: 'window_start', type: 'timestamp' },
      { name: 'note', type: 'string' },
      { name: 'clicks', type: 'long' },
    ],
    ['window_start', 'user_id'],
  );

  it('lets ordinary rows through', () => {
    expect(guard({ user_id: 'u1', window_start: 0, note: 'ok', clicks: 3 })).toBeUndefined();
  });

  it('refuses a key beyond the btree bound, naming the limit', () => {
    const fits = 'k'.repeat(PG_MAX_KEY_BYTES - 8);
    expect(guard({ user_id: fits, window_start: 0, note: '', clicks: 1 })).toBeUndefined();
    const reason = guard({ user_id: 'k'.repeat(10_000), window_start: 0, note: '', clicks: 1 });
    expect(reason).toContain('sink key (window_start, user_id) is 10008 bytes');
    expect(reason).toContain(`at most ${PG_MAX_KEY_BYTES} bytes`);
  });

  it('counts key bytes as UTF-8, not characters', () => {
    expect(guard({ user_id: 'é'.repeat(1000), window_start: 0, note: '', clicks: 1 })).toContain(
      '2008 bytes',
    );
  });

  it('refuses NUL characters and unpaired surrogates in any text column, but not valid pairs', () => {
    expect(guard({ user_id: 'u', window_start: 0, note: 'a\u0000b', clicks: 1 })).toBe(
      'column "note" contains a NUL character, which PostgreSQL text cannot store',
    );
    expect(guard({ user_id: 'u\ud800', window_start: 0, note: '', clicks: 1 })).toContain(
      'unpaired surrogate',
    );
    expect(guard({ user_id: 'u\udc00x', window_start: 0, note: '', clicks: 1 })).toContain(
      'unpaired surrogate',
    );
    expect(guard({ user_id: '🙂', window_start: 0, note: '', clicks: 1 })).toBeUndefined();
  });
});

describe('Kafka size guards', () => {
  const format = (row: Record<string, unknown>) => ({ key: null, value: JSON.stringify(row) });

  it('refuses an output record above the topic limit and lets one below it through', () => {
    const guard = kafkaRowGuard('out', format, 10_000);
    expect(guard({ v: 'x'.repeat(1000) })).toBeUndefined();
    expect(guard({ v: 'x'.repeat(20_000) })).toMatch(
      /^output record is \d+ bytes; topic out takes at most \d+ bytes per record \(max\.message\.bytes 10000\)$/,
    );
  });

  it('measures escaped JSON, not characters', () => {
    const guard = kafkaRowGuard('out', format, 10_000);
    // 2,000 control characters escape to 12,000 bytes of JSON.
    expect(guard({ v: '\u0001'.repeat(2000) })).toContain('output record is');
  });

  it('refuses a repartition record that cannot fit', () => {
    expect(
      oversizeRecordReason({ key: 'k', value: 'x'.repeat(2_000_000) }, 'rep', DEFAULT_MAX_MESSAGE_BYTES),
    ).toContain('in rep, which takes at most');
    expect(
      oversizeRecordReason({ key: 'k', value: 'x'.repeat(1000) }, 'rep', DEFAULT_MAX_MESSAGE_BYTES),
    ).toBeUndefined();
  });
});
