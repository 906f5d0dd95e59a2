import { describe, expect, it } from 'vitest';
import { consumingInstances, type InstanceState } from './consuming-instances';

const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, s));
const running = (name: string, startedS: number): InstanceState => ({
  name,
  status: 'RUNNING',
  startedAt: at(startedS),
});

describe('consumingInstances', () => {
  it('counts a running instance once its current process has reported a trigger', () => {
    const instances = [running('q-0', 0), running('q-1', 30)];
    expect(consumingInstances(instances, [{ instance: 'q-0', timestamp: at(5) }])).toBe(1);
    expect(
      consumingInstances(instances, [
        { instance: 'q-0', timestamp: at(5) },
        { instance: 'q-1', timestamp: at(34) },
      ]),
    ).toBe(2);
  });

  it("does not count a process's predecessor: reports from before the current start", () => {
    // q-1 was scaled in and its ordinal started again at 60 (or it restarted after a crash).
    const instances = [running('q-0', 0), running('q-1', 60)];
    const reports = [
      { instance: 'q-0', timestamp: at(58) },
      { instance: 'q-1', timestamp: at(20) },
      { instance: 'q-1', timestamp: at(59) },
    ];
    expect(consumingInstances(instances, reports)).toBe(1);
    expect(consumingInstances(instances, [...reports, { instance: 'q-1', timestamp: at(60) }])).toBe(2);
  });

  it('counts only RUNNING instances, and no report without an instance name', () => {
    const instances: InstanceState[] = [
      { name: 'q-0', status: 'STARTING', startedAt: at(0) },
      { name: 'q-1', status: 'DRAINING', startedAt: at(0) },
      running('q-2', 0),
    ];
    const reports = ['q-0', 'q-1', null].map((instance) => ({ instance, timestamp: at(10) }));
    expect(consumingInstances(instances, reports)).toBe(0);
    // Nothing reported in the window: nobody is known to consume.
    expect(consumingInstances(instances, [])).toBe(0);
  });

  it('counts every RUNNING instance when no report names its instance (Spark fields only)', () => {
    const instances: InstanceState[] = [
      running('q-0', 0),
      running('q-1', 30),
      { name: 'q-2', status: 'STARTING', startedAt: at(30) },
    ];
    expect(consumingInstances(instances, [{ instance: null, timestamp: at(10) }])).toBe(2);
  });
});

describe('consumingInstances with the consumer group', () => {
  it('counts a RUNNING member of the Stable group before its first report', () => {
    // q-1 and q-2 have joined (the group is Stable with them) and run their first batch.
    const instances = [running('q-0', 0), running('q-1', 30), running('q-2', 30)];
    const reports = [{ instance: 'q-0', timestamp: at(31) }];
    expect(consumingInstances(instances, reports)).toBe(1);
    expect(consumingInstances(instances, reports, new Set(['q-0', 'q-1', 'q-2']))).toBe(3);
  });

  it('counts reporters the group does not name, and no member that is not RUNNING', () => {
    const instances: InstanceState[] = [
      running('q-0', 0),
      running('q-1', 30),
      { name: 'q-2', status: 'DRAINING', startedAt: at(0) },
    ];
    // q-0's member entry is not in the set (another tool's view, a group read between members).
    const reports = [{ instance: 'q-0', timestamp: at(31) }];
    expect(consumingInstances(instances, reports, new Set(['q-1', 'q-2']))).toBe(2);
  });

  it('does not fall back to every RUNNING instance when the group names its members', () => {
    const instances = [running('q-0', 0), running('q-1', 30)];
    expect(consumingInstances(instances, [{ instance: null, timestamp: at(31) }], new Set(['q-0']))).toBe(1);
  });
});
