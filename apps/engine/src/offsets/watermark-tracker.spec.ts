import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from './watermark-tracker';

describe('WatermarkTracker', () => {
  it('is max event time minus delay, computed only between batches', () => {
    const t = new WatermarkTracker([{ source: 'clicks', delayMs: 10_000 }]);
    t.observe('clicks', 50_000);
    t.observe('clicks', 70_000);
    t.observe('clicks', 60_000);
    expect(t.watermarkMs).toBe(0); // still the value this batch started with
    expect(t.advance()).toBe(60_000);
    expect(t.watermarkMs).toBe(60_000);
  });

  it('never moves backwards when later batches carry older events', () => {
    const t = new WatermarkTracker([{ source: 's', delayMs: 0 }]);
    t.observe('s', 100);
    t.advance();
    t.observe('s', 40);
    expect(t.advance()).toBe(100);
  });

  it('takes the minimum across sources that have seen data', () => {
    const t = new WatermarkTracker([
      { source: 'a', delayMs: 0 },
      { source: 'b', delayMs: 5 },
    ]);
    t.observe('a', 100);
    expect(t.advance()).toBe(100); // b has no data yet: it does not hold the watermark back
    t.observe('b', 50);
    t.observe('a', 200);
    expect(t.advance()).toBe(100); // min(200, 45) = 45 < 100: stays
    t.observe('b', 300);
    expect(t.advance()).toBe(200);
  });

  it('restores from checkpointed state and discards a failed batch', () => {
    const t = new WatermarkTracker([{ source: 's', delayMs: 10 }], {
      maxEventTimeMs: { s: 500 },
      watermarkMs: 490,
    });
    t.observe('s', 10_000);
    t.discardBatch();
    expect(t.advance()).toBe(490);
    expect(t.state()).toEqual({ maxEventTimeMs: { s: 500 }, watermarkMs: 490 });
  });
});
