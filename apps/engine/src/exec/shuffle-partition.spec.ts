import { describe, expect, it } from 'vitest';
import { shufflePartition } from './shuffle-partition';

/** FNV-1a over the key's UTF-8 bytes, as every engine so far has computed it. */
function reference(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

describe('shufflePartition', () => {
  it('keeps the partitions existing checkpoints were written with', () => {
    // Pinned: a change here moves groups between shuffle partitions of a running checkpoint.
    expect(shufflePartition('', 8)).toBe(5);
    expect(shufflePartition('[1767225600000,"user-2"]', 4)).toBe(1); // FNV-1a 1383970761
    expect(shufflePartition('["café"]', 8)).toBe(3); // FNV-1a 1868486523
  });

  it('is the FNV-1a of the UTF-8 bytes for ASCII and non-ASCII keys alike', () => {
    const keys = [
      'a',
      '["user-42"]',
      '[1767225600000,"user-4999"]',
      '["café"]',
      '["東京",1]',
      '["😀"]',
      'x\ud800y', // a lone surrogate: UTF-8 encodes it as U+FFFD, as Buffer.from does
      'ascii then é',
    ];
    for (const key of keys)
      for (const partitions of [1, 4, 8, 200])
        expect(shufflePartition(key, partitions)).toBe(reference(key, partitions));
  });
});
