import { describe, expect, it } from 'vitest';
import { sortedMap, sparkRate, sparkTimestamp, withoutUndefined } from './spark-json';

describe('Spark progress serialisation rules', () => {
  it('rounds rates HALF_UP to one decimal like BigDecimal.setScale(1, HALF_UP)', () => {
    expect(sparkRate(5120 / 0.912)).toBe(5614);
    expect(sparkRate(0.05)).toBe(0.1);
    expect(sparkRate(2.25)).toBe(2.3);
    expect(sparkRate(1.04999)).toBe(1);
    expect(sparkRate(-2.25)).toBe(-2.3);
  });

  it('omits NaN and infinite rates', () => {
    expect(sparkRate(Number.NaN)).toBeUndefined();
    expect(sparkRate(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('sorts map keys and omits empty maps', () => {
    expect(Object.keys(sortedMap({ walCommit: 1, addBatch: 2 }) ?? {})).toEqual(['addBatch', 'walCommit']);
    expect(sortedMap({})).toBeUndefined();
  });

  it('formats timestamps in UTC with milliseconds and drops undefined members', () => {
    expect(sparkTimestamp(Date.UTC(2025, 5, 2, 12, 0, 4, 120))).toBe('2025-06-02T12:00:04.120Z');
    expect(JSON.stringify(withoutUndefined({ a: 1, b: undefined }))).toBe('{"a":1}');
  });
});
