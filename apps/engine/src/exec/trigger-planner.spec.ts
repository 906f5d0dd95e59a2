import { describe, expect, it } from 'vitest';
import type { ControlCommand } from '@sluice/contracts';
import type { OffsetLogEntry } from '../checkpoint/checkpoint-store';
import {
  applyCommands,
  diffAssignment,
  planTrigger,
  type PlannerTask,
  type TriggerPlanInput,
} from './trigger-planner';

const task = (
  over: Partial<PlannerTask> & Pick<PlannerTask, 'task' | 'stage' | 'topic' | 'partition'>,
): PlannerTask => ({
  nextBatchId: 0,
  nextStart: undefined,
  replay: undefined,
  watermarkMs: undefined,
  lastBatchWatermarkMs: 0,
  ...over,
});

const input = (over: Partial<TriggerPlanInput>): TriggerPlanInput => ({
  tasks: [],
  bounds: new Map(),
  sourcesPaused: false,
  rateLimit: null,
  totalSourcePartitions: 1,
  minOffsetsPerTrigger: null,
  maxTriggerDelayMs: 60_000,
  failOnDataLoss: true,
  firstOffset: (_t, _p, b) => b.earliest,
  maxShuffleRecordsPerBatch: 1000,
  maxRecordsPerTask: null,
  queryVersion: 3,
  nowMs: 5000,
  lastTriggerMs: 0,
  ...over,
});

const bounds = (topic: string, ...parts: Array<[number, number]>) =>
  new Map([[topic, new Map(parts.map(([earliest, latest], p) => [p, { earliest, latest }]))]]);

describe('planTrigger', () => {
  it('plans a source task with no history from its first offset to the end of the log', () => {
    const plan = planTrigger(
      input({
        tasks: [task({ task: 'src.t.0', stage: 'source', topic: 't', partition: 0 })],
        bounds: bounds('t', [2, 10]),
        firstOffset: () => 4,
      }),
    );
    expect(plan.runs).toEqual([
      {
        task: 'src.t.0',
        entry: {
          batchId: 0,
          range: { topic: 't', partition: 0, start: 4, end: 10 },
          watermarkMs: 0,
          batchTimestampMs: 5000,
          planVersion: 3,
        },
      },
    ]);
    expect(plan.nextStarts.get('src.t.0')).toBe(4);
    expect(plan.lastTriggerMs).toBe(5000);
  });

  it('re-runs a planned batch that is not committed before anything new, with its own range', () => {
    const replay: OffsetLogEntry = {
      batchId: 7,
      range: { topic: 't', partition: 0, start: 3, end: 5 },
      watermarkMs: 42,
      batchTimestampMs: 1,
      planVersion: 2,
    };
    const plan = planTrigger(
      input({
        tasks: [task({ task: 'src.t.0', stage: 'source', topic: 't', partition: 0, nextStart: 3, replay })],
        bounds: bounds('t', [0, 100]),
      }),
    );
    expect(plan.runs).toEqual([{ task: 'src.t.0', entry: replay }]);
  });

  it("counts a replay's records against the rate limit: new ranges beside it get what is left", () => {
    const replay = (end: number): OffsetLogEntry => ({
      batchId: 4,
      range: { topic: 't', partition: 0, start: 0, end },
      watermarkMs: 0,
      batchTimestampMs: 1,
      planVersion: 3,
    });
    const tasks = (end: number) => [
      task({ task: 'src.t.0', stage: 'source', topic: 't', partition: 0, nextStart: 0, replay: replay(end) }),
      task({ task: 'src.t.1', stage: 'source', topic: 't', partition: 1, nextStart: 0, nextBatchId: 9 }),
    ];
    const b = bounds('t', [0, 500], [0, 500]);
    const some = planTrigger(
      input({ tasks: tasks(150), bounds: b, rateLimit: 200, totalSourcePartitions: 2 }),
    );
    expect(some.runs.map((r) => [r.task, r.entry.range.end - r.entry.range.start])).toEqual([
      ['src.t.0', 150],
      ['src.t.1', 50],
    ]);
    // A replay planned under an earlier, larger share leaves nothing: it runs alone.
    const none = planTrigger(
      input({ tasks: tasks(200), bounds: b, rateLimit: 150, totalSourcePartitions: 2 }),
    );
    expect(none.runs.map((r) => r.task)).toEqual(['src.t.0']);
    // Without a rate limit a replay takes nothing from the others.
    const free = planTrigger(input({ tasks: tasks(200), bounds: b, totalSourcePartitions: 2 }));
    expect(free.runs.map((r) => [r.task, r.entry.range.end - r.entry.range.start])).toEqual([
      ['src.t.0', 200],
      ['src.t.1', 500],
    ]);
  });

  it('applies the rate limit, and plans nothing new for a paused source stage', () => {
    const t = task({
      task: 'src.t.0',
      stage: 'source',
      topic: 't',
      partition: 0,
      nextStart: 0,
      nextBatchId: 2,
    });
    const limited = planTrigger(input({ tasks: [t], bounds: bounds('t', [0, 100]), rateLimit: 10 }));
    expect(limited.runs.map((r) => [r.entry.batchId, r.entry.range.start, r.entry.range.end])).toEqual([
      [2, 0, 10],
    ]);
    const paused = planTrigger(input({ tasks: [t], bounds: bounds('t', [0, 100]), sourcesPaused: true }));
    expect(paused.runs).toEqual([]);
  });

  it('runs a shuffle task with new rows, or with none when its watermark moved', () => {
    const base = { stage: 'shuffle' as const, topic: 'r', nextStart: 5 };
    const plan = planTrigger(
      input({
        tasks: [
          task({ ...base, task: 'shuffle.0', partition: 0 }),
          task({ ...base, task: 'shuffle.1', partition: 1, watermarkMs: 900, lastBatchWatermarkMs: 800 }),
          task({ ...base, task: 'shuffle.2', partition: 2, watermarkMs: 800, lastBatchWatermarkMs: 800 }),
        ],
        bounds: bounds('r', [0, 8], [0, 5], [0, 5]),
        maxShuffleRecordsPerBatch: 2,
      }),
    );
    expect(
      plan.runs.map((r) => [r.task, r.entry.range.start, r.entry.range.end, r.entry.watermarkMs]),
    ).toEqual([
      ['shuffle.0', 5, 7, 0],
      ['shuffle.1', 5, 5, 900],
    ]);
  });

  it('bounds tasks by maxRecordsPerTask after the rate limit: a shuffle task alone, source tasks as a pool', () => {
    const plan = planTrigger(
      input({
        tasks: [
          task({ task: 'src.t.0', stage: 'source', topic: 't', partition: 0, nextStart: 0 }),
          task({ task: 'src.t.1', stage: 'source', topic: 't', partition: 1, nextStart: 0 }),
          task({ task: 'shuffle.0', stage: 'shuffle', topic: 'r', partition: 0, nextStart: 10 }),
        ],
        bounds: new Map([...bounds('t', [0, 1000], [0, 30]), ...bounds('r', [0, 500])]),
        rateLimit: 400,
        totalSourcePartitions: 2,
        maxRecordsPerTask: 100,
      }),
    );
    expect(plan.runs.map((r) => [r.task, r.entry.range.start, r.entry.range.end])).toEqual([
      ['shuffle.0', 10, 110],
      // 2 × 100 shared: src.t.1 needs only 11, src.t.0 (389 of the rate limit) takes the other 189.
      ['src.t.0', 0, 189],
      ['src.t.1', 0, 11], // its share of the rate limit (400 × 30 / 1030), already below the bound
    ]);
  });

  describe('rate limit shared across instances by backlog', () => {
    // Topic t: 4 partitions; partition 0 is hot (9,000 behind), the others 100 each. Instance A
    // owns 0 and 1, instance B owns 2 and 3; the group committed every partition at 0.
    const topic = bounds('t', [0, 9000], [0, 100], [0, 100], [0, 100]);
    const committed = new Map([0, 1, 2, 3].map((p) => [`t:${p}`, 0] as [string, number]));
    const instance = (...partitions: number[]) =>
      partitions.map((p) =>
        task({ task: `src.t.${p}`, stage: 'source', topic: 't', partition: p, nextStart: 0 }),
      );
    const read = (plan: ReturnType<typeof planTrigger>) =>
      plan.runs.reduce((n, r) => n + r.entry.range.end - r.entry.range.start, 0);
    const common = { bounds: topic, rateLimit: 1000, totalSourcePartitions: 4, sourceTopics: ['t'] };

    it('gives the instance owning the hot partition its backlog share; together at most the cap', () => {
      const a = read(planTrigger(input({ ...common, tasks: instance(0, 1), committed })));
      const b = read(planTrigger(input({ ...common, tasks: instance(2, 3), committed })));
      expect(a).toBe(977); // share floor(1000 × 9,100 / 9,300) = 978, prorated within A: 967 + 10
      expect(b).toBe(20);
      expect(a + b).toBeLessThanOrEqual(1000);
    });

    it("falls back to the even share when another instance's partition has no committed offset", () => {
      const partial = new Map<string, number | null>(committed);
      partial.set('t:3', null);
      expect(read(planTrigger(input({ ...common, tasks: instance(0, 1), committed: partial })))).toBe(499);
      expect(read(planTrigger(input({ ...common, tasks: instance(0, 1) })))).toBe(499);
      // An empty partition never committed is 0 behind, whatever the starting offsets.
      const empty = new Map(
        [...topic.get('t')!].map(([p, b]) => [p, p === 3 ? { earliest: 5, latest: 5 } : b]),
      );
      expect(
        read(
          planTrigger(
            input({ ...common, bounds: new Map([['t', empty]]), tasks: instance(0, 1), committed: partial }),
          ),
        ),
      ).toBe(988); // share floor(1000 × 9,100 / 9,200) = 989, read 978 + 10
    });

    it('counts its own partitions from where their next batch starts, not from the stale commit', () => {
      // A already read 8,000 of partition 0: its backlog is 1,100 of 1,300: share 846, read 769 + 76.
      const ahead = instance(0, 1).map((t) => (t.partition === 0 ? { ...t, nextStart: 8000 } : t));
      expect(read(planTrigger(input({ ...common, tasks: ahead, committed })))).toBe(845);
    });
  });

  it('skips offsets that are gone when failOnDataLoss is false, and reports them', () => {
    const plan = planTrigger(
      input({
        tasks: [task({ task: 'src.t.0', stage: 'source', topic: 't', partition: 0, nextStart: 3 })],
        bounds: bounds('t', [10, 10]),
        failOnDataLoss: false,
      }),
    );
    expect(plan.runs).toEqual([]);
    expect(plan.nextStarts.get('src.t.0')).toBe(10);
    expect(plan.dataLoss).toEqual([expect.objectContaining({ topic: 't', partition: 0, lostOffsets: 7 })]);
  });

  it('waits for minOffsetsPerTrigger until maxTriggerDelay has passed', () => {
    const t = task({ task: 'src.t.0', stage: 'source', topic: 't', partition: 0, nextStart: 0 });
    const args = {
      tasks: [t],
      bounds: bounds('t', [0, 3]),
      minOffsetsPerTrigger: 10,
      maxTriggerDelayMs: 1000,
    };
    const early = planTrigger(input({ ...args, nowMs: 1500, lastTriggerMs: 1000 }));
    expect(early.runs).toEqual([]);
    expect(early.lastTriggerMs).toBe(1000);
    const late = planTrigger(input({ ...args, nowMs: 2500, lastTriggerMs: 1000 }));
    expect(late.runs).toHaveLength(1);
    expect(late.lastTriggerMs).toBe(2500);
  });
});

describe('diffAssignment', () => {
  it('drops tasks no longer assigned and adds new ones', () => {
    const wanted = new Map([
      ['a', 1],
      ['c', 3],
    ]);
    expect(diffAssignment(['a', 'b'], wanted)).toEqual({ drop: ['b'], add: [['c', 3]] });
  });
});

describe('applyCommands', () => {
  const cmd = (c: Record<string, unknown>) => ({ queryId: 'q', ...c }) as unknown as ControlCommand;
  it('applies commands in order and acknowledges each', () => {
    const out = applyCommands({ rateLimit: null, sourcesPaused: false }, [
      cmd({ type: 'setRateLimit', commandId: 'c1', maxOffsetsPerTrigger: 500 }),
      cmd({ type: 'pauseSources', commandId: 'c2' }),
      cmd({ type: 'resumeSources', commandId: 'c3' }),
      cmd({ type: 'setRateLimit', commandId: 'c4', maxOffsetsPerTrigger: null }),
    ]);
    expect(out).toMatchObject({
      rateLimit: null,
      sourcesPaused: false,
      drain: false,
      acked: ['c1', 'c2', 'c3', 'c4'],
    });
    expect(out.notes.map((n) => n.msg)).toEqual([
      'rate limit set to 500',
      'source stage paused',
      'source stage resumed',
      'rate limit set to unlimited',
    ]);
  });

  it('asks for a drain and keeps the rest of the state', () => {
    const out = applyCommands({ rateLimit: 7, sourcesPaused: true }, [
      cmd({ type: 'drain', commandId: 'd' }),
    ]);
    expect(out).toMatchObject({ rateLimit: 7, sourcesPaused: true, drain: true, acked: ['d'] });
  });
});
