import { describe, expect, it } from 'vitest';
import { CommittedOffsetsCache } from './committed-offsets-cache';

/** A cache over a reader that counts its calls and can be told to fail. */
function harness(periodMs = 1000) {
  const reads: number[] = [];
  const warnings: string[] = [];
  let fail = false;
  let offset = 0;
  const cache = new CommittedOffsetsCache(
    async () => {
      reads.push(offset);
      if (fail) throw new Error('coordinator not available');
      return new Map([['t:0', offset]]);
    },
    periodMs,
    (m) => warnings.push(m),
  );
  return {
    cache,
    reads,
    warnings,
    setFail: (f: boolean) => (fail = f),
    setOffset: (o: number) => (offset = o),
  };
}

describe('CommittedOffsetsCache', () => {
  it('reads once per period and answers from memory in between', async () => {
    const h = harness(1000);
    h.setOffset(10);
    expect((await h.cache.get(0))?.get('t:0')).toBe(10);
    h.setOffset(20);
    expect((await h.cache.get(999))?.get('t:0')).toBe(10);
    expect(h.reads).toHaveLength(1);
    expect((await h.cache.get(1000))?.get('t:0')).toBe(20);
    expect(h.reads).toHaveLength(2);
  });

  it('answers undefined after a failed read (even share), warns, and does not retry before the period', async () => {
    const h = harness(1000);
    h.setFail(true);
    expect(await h.cache.get(0)).toBeUndefined();
    expect(h.warnings).toEqual([
      'committed offsets not read (rate limit shared by partition count): coordinator not available',
    ]);
    h.setFail(false);
    h.setOffset(5);
    expect(await h.cache.get(500)).toBeUndefined();
    expect(h.reads).toHaveLength(1);
    expect((await h.cache.get(1000))?.get('t:0')).toBe(5);
  });

  it('forgets an older good value when a later read fails', async () => {
    const h = harness(100);
    h.setOffset(7);
    expect((await h.cache.get(0))?.get('t:0')).toBe(7);
    h.setFail(true);
    expect(await h.cache.get(100)).toBeUndefined();
  });
});
