import { describe, expect, it } from 'vitest';
import { OutageBackoff, retryWhileUnavailable, StoppedWhileWaitingError } from './database-outage';

const refused = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('OutageBackoff', () => {
  it('doubles from the base up to the bound and reports the outage length on recovery', () => {
    const b = new OutageBackoff(500, 10_000);
    expect([1, 2, 3, 4, 5, 6, 7].map((t) => b.fail(t * 1000))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(b.active).toBe(true);
    expect(b.recover(15_000)).toBe(14_000);
    expect(b.active).toBe(false);
    expect(b.recover(16_000)).toBeUndefined();
    expect(b.fail(20_000)).toBe(500);
  });
});

describe('retryWhileUnavailable', () => {
  it('retries an unreachable database and returns once it answers, logging each wait', async () => {
    const warnings: string[] = [];
    let calls = 0;
    const result = await retryWhileUnavailable(
      async () => {
        if (++calls < 3) throw refused();
        return 'ok';
      },
      {
        what: 'sink database',
        warn: (m) => warnings.push(m),
        stopped: () => false,
        backoff: new OutageBackoff(1, 2),
      },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(
      warnings.filter((w) => w.startsWith('sink database unreachable (connect ECONNREFUSED')),
    ).toHaveLength(2);
    expect(warnings.at(-1)).toMatch(/^sink database reachable again after \d+ s$/);
  });

  it('does not retry other errors', async () => {
    const denied = Object.assign(new Error('password authentication failed'), { code: '28P01' });
    await expect(
      retryWhileUnavailable(() => Promise.reject(denied), {
        what: 'x',
        warn: () => undefined,
        stopped: () => false,
      }),
    ).rejects.toBe(denied);
  });

  it('gives up when asked to stop', async () => {
    let stop = false;
    const p = retryWhileUnavailable(() => Promise.reject(refused()), {
      what: 'checkpoint database',
      warn: () => (stop = true),
      stopped: () => stop,
    });
    await expect(p).rejects.toBeInstanceOf(StoppedWhileWaitingError);
  });
});
