import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH_GATE, invalidRate, judgeGate, type GateObservation } from './health-gate';

const healthy: GateObservation = {
  elapsedMs: 8_000,
  batches: 3,
  instances: 2,
  instancesReporting: 2,
  crashes: 0,
  invalidRateBefore: 0.001,
  invalidRows: 1,
  inputRows: 1000,
  lagSecondsAtStart: 6,
  lagSecondsNow: 2,
};
const s = DEFAULT_HEALTH_GATE;

describe('judgeGate', () => {
  it('passes once enough batches are committed by every instance, naming the figures', () => {
    const v = judgeGate(healthy, s);
    expect(v.verdict).toBe('pass');
    expect(v.verdict === 'pass' && v.summary).toMatch(
      /3 batches committed in 8\.0 s by 2 instance\(s\).*-4\.0 s/,
    );
  });

  it('waits while batches are missing and the window is open', () => {
    expect(judgeGate({ ...healthy, batches: 2 }, s)).toEqual({ verdict: 'wait' });
    expect(judgeGate({ ...healthy, instancesReporting: 1 }, s)).toEqual({ verdict: 'wait' });
  });

  it('fails when the window closes first', () => {
    const v = judgeGate({ ...healthy, batches: 1, instancesReporting: 1, elapsedMs: 60_000 }, s);
    expect(v).toEqual({
      verdict: 'fail',
      reason: '1 of 3 batches committed (1 of 2 instances) within 60 s',
    });
    // Failed triggers are not batches; the last one's error says why the window ran out.
    const failing = judgeGate(
      {
        ...healthy,
        batches: 0,
        instancesReporting: 0,
        elapsedMs: 60_000,
        lastTriggerError: 'relation "t" does not exist',
      },
      s,
    );
    expect(failing.verdict === 'fail' && failing.reason).toBe(
      '0 of 3 batches committed (0 of 2 instances) within 60 s; last failed trigger: relation "t" does not exist',
    );
  });

  it('fails at once on a crash, with its reason', () => {
    const v = judgeGate(
      { ...healthy, batches: 0, crashes: 1, lastCrash: 'column "clicks" is of type uuid' },
      s,
    );
    expect(v).toEqual({
      verdict: 'fail',
      reason: 'an instance of the new version crashed: column "clicks" is of type uuid',
    });
  });

  it('fails on an invalid-row rate above the old one plus the allowance, without waiting for the window', () => {
    const v = judgeGate({ ...healthy, batches: 1, invalidRows: 300, inputRows: 1000 }, s);
    expect(v.verdict).toBe('fail');
    expect(v.verdict === 'fail' && v.reason).toBe(
      'invalid-row rate 30.00 % (300 of 1000 rows) against 0.10 % before the upgrade (at most 1.00 % more allowed)',
    );
    // Within the allowance: not a failure.
    expect(judgeGate({ ...healthy, invalidRows: 10, inputRows: 1000 }, s).verdict).toBe('pass');
    // Nothing read before: the rate before counts as 0.
    expect(judgeGate({ ...healthy, invalidRateBefore: null, invalidRows: 20 }, s).verdict).toBe('fail');
  });

  it('fails when the time lag grows by more than the threshold, and ignores an unknown lag', () => {
    const v = judgeGate({ ...healthy, lagSecondsAtStart: 2, lagSecondsNow: 40 }, s);
    expect(v).toEqual({
      verdict: 'fail',
      reason: 'time lag grew by 38.0 s (2.0 → 40.0 s; at most 30 s)',
    });
    expect(judgeGate({ ...healthy, lagSecondsAtStart: null }, s).verdict).toBe('pass');
  });

  it('computes rates: none without rows, all when only invalid rows were seen', () => {
    expect(invalidRate(0, 0)).toBeNull();
    expect(invalidRate(5, 0)).toBe(1);
    expect(invalidRate(5, 100)).toBe(0.05);
  });
});
