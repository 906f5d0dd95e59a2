import { describe, expect, it } from 'vitest';
import { MAX_RECORDS, median, MIN_RECORDS, sustainedRecords, TARGET_SECONDS } from './calibration';

describe('live calibration sizing', () => {
  it('sizes the sustained backlog to TARGET_SECONDS of work at the rough rate, within bounds', () => {
    expect(sustainedRecords(1000)).toBe(1000 * TARGET_SECONDS);
    expect(sustainedRecords(1)).toBe(MIN_RECORDS);
    expect(sustainedRecords(1e9)).toBe(MAX_RECORDS);
    for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(sustainedRecords(bad)).toBe(MIN_RECORDS);
  });

  it('takes the median of batch rates (null without batches)', () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
