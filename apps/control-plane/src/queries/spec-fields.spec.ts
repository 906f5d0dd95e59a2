import { describe, expect, it } from 'vitest';
import { durationMs, sourceTopics, triggerIntervalMs } from './spec-fields';

describe('spec fields', () => {
  it('parses Spark duration strings', () => {
    expect(durationMs('2 seconds')).toBe(2000);
    expect(durationMs('500 milliseconds')).toBe(500);
    expect(durationMs('1 minute')).toBe(60_000);
    expect(durationMs('1.5 hours')).toBe(5_400_000);
    expect(durationMs('soon')).toBeUndefined();
  });
  it('reads the trigger interval with a 1 s floor for unspecified triggers', () => {
    expect(triggerIntervalMs({ trigger: { processingTime: '2 seconds' } })).toBe(2000);
    // The form stored by the control plane (the compiler's normalised spec).
    expect(triggerIntervalMs({ trigger: { processingTimeMs: 250 } })).toBe(250);
    expect(triggerIntervalMs({ trigger: { availableNow: true } })).toBe(1000);
    expect(triggerIntervalMs(null)).toBe(1000);
  });
  it('lists the Kafka source topics', () => {
    expect(
      sourceTopics({ sources: { a: { kafka: { topic: 'clicks' } }, b: { kafka: { topic: 'views' } } } }),
    ).toEqual(['clicks', 'views']);
  });
});
