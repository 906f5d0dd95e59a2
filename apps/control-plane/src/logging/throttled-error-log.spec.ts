import { describe, expect, it } from 'vitest';
import { throttledErrorLog } from './throttled-error-log';

describe('throttledErrorLog', () => {
  it('reports the first error, then one summary per interval with the count it held back', () => {
    let now = 1_000_000;
    const lines: string[] = [];
    const onError = throttledErrorLog(
      (m) => lines.push(m),
      30_000,
      () => now,
    );
    onError(new Error('connect ECONNREFUSED'));
    for (let i = 0; i < 5; i++) onError(new Error('connect ECONNREFUSED'));
    expect(lines).toEqual(['connect ECONNREFUSED']);
    now += 30_000;
    onError(new Error('connect ECONNREFUSED'));
    expect(lines).toEqual(['connect ECONNREFUSED', 'connect ECONNREFUSED (5 more since the last report)']);
  });
});
