import { describe, expect, it } from 'vitest';
import { DEFAULT_TRIGGER_INTERVAL_MS, sourceTopics, triggerIntervalMs } from './stored-spec-fields';

describe('stored spec fields', () => {
  it('reads the trigger interval with the same duration parser as the spec schema', () => {
    expect(triggerIntervalMs({ trigger: { processingTime: '2 seconds' } })).toBe(2000);
    // Forms the control plane's former parser refused: short minutes, days, Spark's interval prefix.
    expect(triggerIntervalMs({ trigger: { processingTime: '1m' } })).toBe(60_000);
    expect(triggerIntervalMs({ trigger: { processingTime: '1 day' } })).toBe(86_400_000);
    expect(triggerIntervalMs({ trigger: { processingTime: 'interval 1 minute 30 seconds' } })).toBe(90_000);
    // The form stored by the control plane (the compiler's normalised spec).
    expect(triggerIntervalMs({ trigger: { processingTimeMs: 250 } })).toBe(250);
  });

  it('falls back to the default interval when no processing-time trigger is set', () => {
    expect(triggerIntervalMs({ trigger: { availableNow: true } })).toBe(DEFAULT_TRIGGER_INTERVAL_MS);
    expect(triggerIntervalMs({ trigger: { processingTime: 'soon' } })).toBe(DEFAULT_TRIGGER_INTERVAL_MS);
    expect(triggerIntervalMs(null)).toBe(DEFAULT_TRIGGER_INTERVAL_MS);
  });

  it('lists the Kafka source topics', () => {
    expect(
      sourceTopics({ sources: { a: { kafka: { topic: 'clicks' } }, b: { kafka: { topic: 'views' } } } }),
    ).toEqual(['clicks', 'views']);
    expect(sourceTopics({})).toEqual([]);
  });
});
