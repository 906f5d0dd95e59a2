import { describe, expect, it } from 'vitest';
import { kafkaOffsets, profileFromProgress, type RecordedProgress } from './replay-profile';

const defaults = {
  name: 'replay',
  sloMaxLagSeconds: 60,
  startupSeconds: 45,
  rebalancePauseSeconds: 10,
  bucketSeconds: 60,
};

describe('replay profile', () => {
  it('reads Kafka offsets as objects or JSON text', () => {
    expect(kafkaOffsets({ orders: { '0': 5, '1': 7 } })).toEqual([
      ['orders/0', 5],
      ['orders/1', 7],
    ]);
    expect(kafkaOffsets('{"t":{"0":3}}')).toEqual([['t/0', 3]]);
    expect(kafkaOffsets('not json')).toEqual([]);
  });

  it('derives the produce rate from latest offsets, even while the query lags', () => {
    // 2 partitions, 500 records/s each; the query reads only 100 rows per 10 s batch.
    const events: RecordedProgress[] = Array.from({ length: 31 }, (_, i) => ({
      timeMs: i * 10_000,
      instance: 'a',
      numInputRows: 100,
      batchDurationMs: 2000,
      latestOffsets: [{ t: { '0': i * 5000, '1': i * 5000 } }],
    }));
    const profile = profileFromProgress(events, defaults);
    expect(profile.partitions).toBe(2);
    expect(profile.triggerSeconds).toBe(10);
    expect(profile.durationSeconds).toBe(300);
    for (const p of profile.input) expect(p.rate).toBeCloseTo(1000);
  });

  it('falls back to rows read without offsets', () => {
    const events: RecordedProgress[] = Array.from({ length: 13 }, (_, i) => ({
      timeMs: i * 10_000,
      instance: 'a',
      numInputRows: 6000,
      batchDurationMs: 3000,
      latestOffsets: [],
    }));
    const profile = profileFromProgress(events, defaults);
    expect(profile.input[0]?.rate).toBeCloseTo(600);
    expect(profile.instance.capacity).toBeCloseTo(2000);
  });
});
