// The leader-only periodic task: runs only on the leader, never two passes at once, a failure
// warned and retried, stop waits for the pass under way.
import { SchedulerRegistry } from '@nestjs/schedule';
import { describe, expect, it } from 'vitest';
import { LeaderTick } from './leader-tick';

/** A pass that finishes only when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('LeaderTick', () => {
  it('runs the work only while this replica leads', async () => {
    const leadership = { isLeader: false };
    let runs = 0;
    const tick = new LeaderTick({
      name: 'test task',
      everyMs: 60_000,
      leadership,
      work: async () => void runs++,
      warn: () => undefined,
    });
    await tick.runOnce();
    expect(runs).toBe(0);
    leadership.isLeader = true;
    await tick.runOnce();
    expect(runs).toBe(1);
  });

  it('makes a tick during a pass under way a no-op', async () => {
    const g = gate();
    let runs = 0;
    const tick = new LeaderTick({
      name: 'test task',
      everyMs: 60_000,
      leadership: { isLeader: true },
      work: () => {
        runs++;
        return g.promise;
      },
      warn: () => undefined,
    });
    const first = tick.runOnce();
    const second = tick.runOnce();
    expect(runs).toBe(1);
    g.open();
    await Promise.all([first, second]);
    await tick.runOnce();
    expect(runs).toBe(2);
  });

  it('logs a failed pass at warn with the task name, and the next tick runs again', async () => {
    const warnings: string[] = [];
    let runs = 0;
    const tick = new LeaderTick({
      name: 'progress-retention',
      everyMs: 60_000,
      leadership: { isLeader: true },
      work: async () => {
        runs++;
        if (runs === 1) throw new Error('database away');
      },
      warn: (m) => warnings.push(m),
    });
    await expect(tick.runOnce()).resolves.toBeUndefined();
    expect(warnings).toEqual(['progress-retention failed (next tick retries): database away']);
    await tick.runOnce();
    expect(runs).toBe(2);
    expect(warnings).toHaveLength(1);
  });

  it('ticks on its interval, registers it with the scheduler, and stop waits for the pass under way', async () => {
    const scheduler = new SchedulerRegistry();
    const g = gate();
    let runs = 0;
    let finished = false;
    const tick = new LeaderTick({
      name: 'scaling-loop',
      everyMs: 5,
      leadership: { isLeader: true },
      work: async () => {
        runs++;
        await g.promise;
        finished = true;
      },
      warn: () => undefined,
      scheduler,
    });
    tick.start();
    expect(scheduler.doesExist('interval', 'scaling-loop')).toBe(true);
    await until(() => runs === 1);
    const stopped = tick.stop();
    expect(scheduler.doesExist('interval', 'scaling-loop')).toBe(false);
    g.open();
    await stopped;
    expect(finished).toBe(true);
    // No tick after stop: the count stays where it was.
    const after = runs;
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(after);
  });
});
