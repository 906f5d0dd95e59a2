import { describe, expect, it } from 'vitest';
import { isDependencyUnavailable } from './dependency-unavailable';

describe('isDependencyUnavailable', () => {
  it('recognises outages of PostgreSQL, Redis and Kafka as the drivers report them', () => {
    expect(isDependencyUnavailable({ code: 'P1001' })).toBe(true);
    // "Unable to start a transaction in the given time": the pool is saturated, retry shortly.
    expect(isDependencyUnavailable({ code: 'P2028' })).toBe(true);
    expect(
      isDependencyUnavailable({
        code: 'P2010',
        meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
      }),
    ).toBe(true);
    expect(isDependencyUnavailable({ code: '57P01' })).toBe(true);
    expect(
      isDependencyUnavailable(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe(true);
    expect(
      isDependencyUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('x'), { name: 'KafkaJSConnectionError' }))).toBe(
      true,
    );
    expect(isDependencyUnavailable(new Error('wrapper', { cause: { code: 'ECONNRESET' } }))).toBe(true);
  });

  it('leaves bugs and bad data alone', () => {
    expect(isDependencyUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDependencyUnavailable({ code: '22P02' })).toBe(false);
    expect(isDependencyUnavailable({ code: 'P2002' })).toBe(false);
    expect(isDependencyUnavailable(null)).toBe(false);
  });
});
