import { describe, expect, it } from 'vitest';
import { advisoryLockKey, leaderLockName, SLUICE_LOCK_NAMESPACE } from './advisory-lock-key';

describe('advisoryLockKey', () => {
  it('is stable: the same name gives the same key in every process', () => {
    expect(advisoryLockKey('leader/sluice')).toEqual(advisoryLockKey('leader/sluice'));
  });

  it('matches the published FNV-1a 32-bit test vector, folded to 31 bits', () => {
    // FNV-1a("a") = 0xe40c292c (test vectors of the FNV reference implementation).
    expect(advisoryLockKey('a')).toEqual([SLUICE_LOCK_NAMESPACE, 0xe40c292c & 0x7fffffff]);
  });

  it('gives distinct clusters distinct keys, all within int32 and non-negative', () => {
    const names = Array.from({ length: 1000 }, (_, i) => leaderLockName(`cluster-${i}`));
    const keys = new Set(names.map((n) => advisoryLockKey(n)[1]));
    expect(keys.size).toBe(names.length);
    for (const k of keys) {
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k).toBeLessThanOrEqual(0x7fffffff);
    }
    expect(SLUICE_LOCK_NAMESPACE).toBeLessThanOrEqual(0x7fffffff);
  });
});
