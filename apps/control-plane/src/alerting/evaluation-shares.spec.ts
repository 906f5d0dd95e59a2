import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadAppConfig } from '../config/app-config';
import {
  effectiveShares,
  MIN_PASS_SPACING_MS,
  SHARE_COUNTS,
  shareFilterSql,
  shareOfId,
  shareOfSlot,
} from './evaluation-shares';
import { VERSION_BUCKETS } from './version-buckets';

describe('evaluation shares', () => {
  it('are the divisors of the version buckets, and the configuration accepts exactly those', () => {
    for (const c of SHARE_COUNTS) expect(VERSION_BUCKETS % c).toBe(0);
    const accepted = Array.from({ length: 130 }, (_, n) => n).filter((n) => {
      try {
        return loadAppConfig({ SLUICE_ALERT_EVAL_SHARES: String(n) }).SLUICE_ALERT_EVAL_SHARES === n;
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).issues.join('\n')).toMatch(/^SLUICE_ALERT_EVAL_SHARES: /m);
        return false;
      }
    });
    expect(accepted).toEqual([...SHARE_COUNTS]);
    expect(loadAppConfig({}).SLUICE_ALERT_EVAL_SHARES).toBe(8);
  });

  it('uses fewer shares when passes would come too close or off whole milliseconds', () => {
    expect(effectiveShares(8, 10_000)).toBe(8);
    expect(effectiveShares(64, 10_000)).toBe(16); // 625 ms apart; 32 would be 312.5
    expect(effectiveShares(8, 1_000)).toBe(4); // 250 ms apart
    expect(effectiveShares(8, 500)).toBe(2);
    expect(effectiveShares(8, 300)).toBe(1);
    expect(effectiveShares(8, 10_001)).toBe(1);
    expect(effectiveShares(1, 60_000)).toBe(1);
    for (const c of SHARE_COUNTS) {
      for (const interval of [200, 999, 1_000, 7_500, 10_000, 600_000]) {
        const n = effectiveShares(c, interval);
        expect(n).toBeLessThanOrEqual(c);
        expect(interval % n).toBe(0);
        if (n > 1) expect(interval / n).toBeGreaterThanOrEqual(MIN_PASS_SPACING_MS);
      }
    }
  });

  it('gives every share one slot per interval, the shares in turn', () => {
    const spacing = 1_250;
    const t0 = 1_700_000_000_000; // a multiple of 10 s
    const turns = Array.from({ length: 16 }, (_, i) => shareOfSlot(t0 + i * spacing, spacing, 8));
    expect(turns).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('puts every query in exactly one share, spread evenly', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8_000; i++) counts[shareOfId(randomUUID(), 8)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(shareOfId('00000000-0000-4000-8000-0000000000ff', 8)).toBe((255 % 64) % 8);
  });

  it('writes the share as SQL over the uuid last byte, and refuses what is not a share', () => {
    expect(shareFilterSql('q.id', { index: 3, count: 8 })).toBe(
      '(get_byte(uuid_send(q.id), 15) % 64 % 8 = 3)',
    );
    expect(shareFilterSql('q.id', { index: 0, count: 1 })).toBe('true');
    expect(() => shareFilterSql('q.id', { index: 8, count: 8 })).toThrow(/not a share/);
    expect(() => shareFilterSql('q.id', { index: 0.5, count: 8 })).toThrow(/not a share/);
  });
});
