import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECONCILE_OPTIONS as O,
  backoffMs,
  decideReconcile,
  type DesiredQuery,
  type ObservedInstance,
} from './reconcile-decision';

const now = new Date('2026-01-01T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

function query(over: Partial<DesiredQuery> = {}): DesiredQuery {
  return {
    name: 'q',
    generation: 1,
    desiredState: 'RUNNING',
    desiredVersion: 1,
    desiredInstances: 2,
    failed: false,
    triggerIntervalMs: 2000,
    lastProgressAt: now,
    lagRecords: 0,
    ...over,
  };
}

function inst(ordinal: number, over: Partial<ObservedInstance> = {}): ObservedInstance {
  return {
    name: `q-${ordinal}`,
    ordinal,
    version: 1,
    status: 'RUNNING',
    restarts: 0,
    crashedAt: null,
    ...over,
  };
}

const condition = (d: ReturnType<typeof decideReconcile>, type: string) =>
  d.conditions.find((c) => c.type === type);

describe('decideReconcile', () => {
  it('starts deterministic instances for a new query', () => {
    const d = decideReconcile(query(), [], [], now);
    expect(d.actions).toEqual([
      { type: 'start', name: 'q-0', ordinal: 0, version: 1 },
      { type: 'start', name: 'q-1', ordinal: 1, version: 1 },
    ]);
    expect(d.phase).toBe('DEPLOYING');
    expect(condition(d, 'Reconciling')?.status).toBe('True');
  });

  it('is a no-op and Ready when desired equals observed', () => {
    const d = decideReconcile(query(), [inst(0), inst(1)], [], now);
    expect(d.actions).toEqual([]);
    expect(d.phase).toBe('RUNNING');
    expect(condition(d, 'Ready')).toMatchObject({ status: 'True', reason: 'AllInstancesRunning' });
    expect(condition(d, 'Reconciling')?.status).toBe('False');
    expect(d.requeueAfterMs).toBeNull();
  });

  it('scales out by starting the missing ordinals only', () => {
    const d = decideReconcile(query({ desiredInstances: 3 }), [inst(0), inst(1)], [], now);
    expect(d.actions).toEqual([{ type: 'start', name: 'q-2', ordinal: 2, version: 1 }]);
  });

  it('scales in by draining the highest ordinals', () => {
    const d = decideReconcile(query({ desiredInstances: 1 }), [inst(0), inst(1), inst(2)], [], now);
    expect(d.actions).toEqual([
      { type: 'drain', name: 'q-1', reason: 'scaled in' },
      { type: 'drain', name: 'q-2', reason: 'scaled in' },
    ]);
  });

  it('does not drain an instance twice', () => {
    const d = decideReconcile(
      query({ desiredInstances: 1 }),
      [inst(0), inst(1, { status: 'DRAINING' })],
      [],
      now,
    );
    expect(d.actions).toEqual([]);
    expect(d.phase).toBe('DEPLOYING');
  });

  it('stop drains everything and reads STOPPED once nothing lives', () => {
    const stopping = decideReconcile(query({ desiredState: 'STOPPED' }), [inst(0), inst(1)], [], now);
    expect(stopping.actions.map((a) => a.type)).toEqual(['drain', 'drain']);
    const stopped = decideReconcile(
      query({ desiredState: 'STOPPED' }),
      [inst(0, { status: 'EXITED' })],
      [],
      now,
    );
    expect(stopped.phase).toBe('STOPPED');
    expect(stopped.actions).toEqual([{ type: 'forget', name: 'q-0' }]);
    expect(condition(stopped, 'Ready')).toMatchObject({ status: 'False', reason: 'Stopped' });
  });

  it('upgrades by draining old-version instances before starting their successors', () => {
    const d = decideReconcile(
      query({ desiredVersion: 2, desiredInstances: 1 }),
      [inst(0, { version: 1 })],
      [],
      now,
    );
    expect(d.actions).toEqual([{ type: 'drain', name: 'q-0', reason: 'upgrade to version 2' }]);
    const after = decideReconcile(
      query({ desiredVersion: 2, desiredInstances: 1 }),
      [inst(0, { version: 1, status: 'EXITED' })],
      [],
      now,
    );
    expect(after.actions).toEqual([{ type: 'start', name: 'q-0', ordinal: 0, version: 2 }]);
  });

  it('restarts a crashed instance after an exponential backoff', () => {
    expect([0, 1, 2, 3, 4, 10].map((r) => backoffMs(r, O))).toEqual([0, 1000, 2000, 4000, 8000, 60000]);
    const crashed = inst(0, { status: 'CRASHED', restarts: 3, crashedAt: ago(1000) });
    const waiting = decideReconcile(query({ desiredInstances: 1 }), [crashed], [ago(1000)], now);
    expect(waiting.actions).toEqual([]);
    expect(waiting.requeueAfterMs).toBe(3000);
    const later = decideReconcile(
      query({ desiredInstances: 1 }),
      [{ ...crashed, crashedAt: ago(5000) }],
      [ago(5000)],
      now,
    );
    expect(later.actions).toEqual([{ type: 'start', name: 'q-0', ordinal: 0, version: 1 }]);
  });

  it('restarts an instance at once after its first crash', () => {
    const crashed = inst(0, { status: 'CRASHED', restarts: 0, crashedAt: ago(10) });
    const d = decideReconcile(query({ desiredInstances: 1 }), [crashed], [ago(10)], now);
    expect(d.actions).toEqual([{ type: 'start', name: 'q-0', ordinal: 0, version: 1 }]);
  });

  it('marks the query FAILED after 5 crashes in 10 minutes and stops restarting', () => {
    const crashes = [1, 2, 3, 4, 5].map((m) => ago(m * 60_000));
    const d = decideReconcile(
      query({ desiredInstances: 1 }),
      [inst(0, { status: 'CRASHED', restarts: 5, crashedAt: ago(60_000) })],
      crashes,
      now,
    );
    expect(d.markFailed).toBe(true);
    expect(d.phase).toBe('FAILED');
    expect(d.actions).toEqual([{ type: 'forget', name: 'q-0' }]);
    expect(condition(d, 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLoop' });
  });

  it("names the last crash's error line in the FAILED message", () => {
    const crashes = [1, 2, 3, 4, 5].map((m) => ago(m * 60_000));
    const crashed = inst(0, {
      status: 'CRASHED',
      restarts: 5,
      crashedAt: ago(60_000),
      exitCode: 1,
      lastError: 'engine: index row requires 10024 bytes, maximum size is 8191',
    });
    const d = decideReconcile(query({ desiredInstances: 1 }), [crashed], crashes, now);
    expect(condition(d, 'Degraded')?.message).toBe(
      '5 crashes within 10 minutes; last: engine: index row requires 10024 bytes, maximum size is 8191; restarts stopped (deploy or start the query to retry)',
    );
    const silent = decideReconcile(
      query({ desiredInstances: 1 }),
      [{ ...crashed, lastError: null, exitCode: 137 }],
      crashes,
      now,
    );
    expect(condition(silent, 'Degraded')?.message).toContain(
      '; last: exit code 137 (no error line in its log);',
    );
  });

  it('keeps the FAILED message as written, not "0 crashes" once the window has passed', () => {
    const message =
      '5 crashes within 10 minutes; last: engine: boom; restarts stopped (deploy or start the query to retry)';
    const d = decideReconcile(
      query({ desiredInstances: 1, failed: true, failureMessage: message }),
      [],
      [ago(3_600_000)],
      now,
    );
    expect(d.phase).toBe('FAILED');
    expect(d.markFailed).toBe(false);
    expect(condition(d, 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLoop', message });
  });

  it('says why an instance is being restarted while it crashes, before any crash loop', () => {
    const crashed = inst(0, {
      status: 'CRASHED',
      restarts: 1,
      crashedAt: ago(500),
      exitCode: 1,
      lastError: 'engine: database unreachable',
    });
    const d = decideReconcile(query({ desiredInstances: 1 }), [crashed], [ago(500)], now);
    expect(d.phase).toBe('DEPLOYING');
    expect(condition(d, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'CrashBackoff',
      message:
        'q-0 crashed: engine: database unreachable; 1 crash within 10 minutes, restarting with backoff',
    });
  });

  it('stops a FAILED query: STOPPED with no restarts, the crash loop no longer in force', () => {
    const crashes = [1, 2, 3, 4, 5].map((m) => ago(m * 1000));
    const d = decideReconcile(
      query({ desiredInstances: 1, desiredState: 'STOPPED', failed: true, failureMessage: 'x' }),
      [],
      crashes,
      now,
    );
    expect(d.phase).toBe('STOPPED');
    expect(d.actions).toEqual([]);
    expect(d.markFailed).toBe(false);
    expect(condition(d, 'Degraded')).toMatchObject({ status: 'False', reason: 'Healthy' });
    expect(condition(d, 'Ready')).toMatchObject({ status: 'False', reason: 'Stopped' });
    // A crashed instance still listed is forgotten, not restarted.
    const withDead = decideReconcile(
      query({ desiredInstances: 1, desiredState: 'STOPPED', failed: true }),
      [inst(0, { status: 'CRASHED', crashedAt: ago(1000) })],
      crashes,
      now,
    );
    expect(withDead.actions).toEqual([{ type: 'forget', name: 'q-0' }]);
    expect(withDead.phase).toBe('STOPPED');
  });

  it('does not count crashes older than the window', () => {
    const crashes = [1, 2, 3, 4].map((m) => ago(m * 60_000)).concat([ago(11 * 60_000)]);
    const d = decideReconcile(
      query({ desiredInstances: 1 }),
      [inst(0, { status: 'CRASHED', restarts: 5, crashedAt: ago(120_000) })],
      crashes,
      now,
    );
    expect(d.markFailed).toBe(false);
    expect(d.phase).not.toBe('FAILED');
  });

  it('reports a stalled query: no progress for 3 trigger intervals while input is behind', () => {
    const fast = { ...O, stalledMinMs: 0 };
    const stalled = decideReconcile(
      query({ lastProgressAt: ago(7000), lagRecords: 500 }),
      [inst(0), inst(1)],
      [],
      now,
      fast,
    );
    expect(stalled.phase).toBe('DEGRADED');
    expect(condition(stalled, 'Degraded')).toMatchObject({ status: 'True', reason: 'Stalled' });
    expect(condition(stalled, 'Ready')?.status).toBe('False');
    const idle = decideReconcile(
      query({ lastProgressAt: ago(7000), lagRecords: 0 }),
      [inst(0), inst(1)],
      [],
      now,
      fast,
    );
    expect(idle.phase).toBe('RUNNING');
    const unknownLag = decideReconcile(
      query({ lastProgressAt: ago(7000), lagRecords: null }),
      [inst(0), inst(1)],
      [],
      now,
      fast,
    );
    expect(unknownLag.phase).toBe('RUNNING');
  });

  it('does not call a long batch stalled before the minimum time has passed', () => {
    const options = { ...O, stalledMinMs: 30_000 };
    const working = decideReconcile(
      query({ lastProgressAt: ago(20_000), lagRecords: 500 }),
      [inst(0), inst(1)],
      [],
      now,
      options,
    );
    expect(working.phase).toBe('RUNNING');
    const stalled = decideReconcile(
      query({ lastProgressAt: ago(31_000), lagRecords: 500 }),
      [inst(0), inst(1)],
      [],
      now,
      options,
    );
    expect(condition(stalled, 'Degraded')).toMatchObject({ status: 'True', reason: 'Stalled' });
  });
});
