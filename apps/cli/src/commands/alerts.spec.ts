import { describe, expect, it } from 'vitest';
import { parseDuration } from './alerts';

describe('silence --duration', () => {
  it("takes the specs' durations, in seconds", () => {
    expect(parseDuration('30m')).toBe(1800);
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('1d')).toBe(86_400);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('2 days')).toBe(172_800);
    expect(parseDuration('1w')).toBe(604_800);
  });

  it('refuses what is not a duration, shorter than a second or longer than a year', () => {
    for (const bad of ['', 'soon', '10', '0s', '500ms', '367d', '2h-']) {
      expect(() => parseDuration(bad), bad).toThrow(/--duration takes a duration of 1s to a year/);
    }
  });
});
