import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['10 seconds', 10_000],
    ['1 minute', 60_000],
    ['interval 2 hours 30 minutes', 9_000_000],
    ['500ms', 500],
    ['1.5 s', 1500],
    [250, 250],
  ])('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(['', 'soon', '10', '10 parsecs', '-1 second'])('rejects %j', (input) =>
    expect(parseDuration(input)).toBeUndefined(),
  );
});
