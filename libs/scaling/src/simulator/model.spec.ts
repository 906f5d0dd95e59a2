// The simulator's model mismatches (issue 19 §2): each one changes what the engine does in the
// direction it claims, keeps every record, and is off unless the profile asks for it.
import { describe, expect, it } from 'vitest';
import type { ScalingDecision, ScalingInput, ScalingPolicy } from '../types';
import { EngineGroup, type BatchListener, type CompletedBatch, type EngineSpec } from './engine-group';
import { KafkaTopic } from './kafka-topic';
import { seededRandom } from './prng';
import type { Profile } from './profile';
import { fixtureProfile } from './profile-fixture';
import { simulate } from './simulate';

const base = {
  name: 'model',
  durationSeconds: 1200,
  input: [
    { at: 0, rate: 3000 },
    { at: 1200, rate: 3000 },
  ],
  noise: { seed: 5, capacityJitter: 0.05 },
};
const withModel = (model: Record<string, unknown>): Profile => fixtureProfile({ ...base, model });

/** Holds a fixed count, or switches once: enough to exercise the engine without a policy's logic. */
class Fixed implements ScalingPolicy {
  readonly name = 'fixed';
  constructor(
    private readonly before: number,
    private readonly after = before,
    private readonly atMs = Infinity,
    readonly restartMode: 'full' | 'incremental' = 'incremental',
  ) {}
  decide(input: ScalingInput): ScalingDecision {
    return { instances: input.nowMs >= this.atMs ? this.after : this.before, reason: 'fixed', inputs: {} };
  }
}

// Ticks at 15, 30 … s: Fixed's first tick scales 4 -> 3 at 15 s whatever the seed, so each test's
// comparison is about the model, not about where its seed put the ticks.
const run = (p: Profile, policy: ScalingPolicy) =>
  simulate(p, policy, { timelineEverySeconds: 5, decisionPhaseSeconds: 0 });
const conserved = (r: ReturnType<typeof simulate>) =>
  expect(r.producedRecords - r.processedRecords - r.backlogRecords).toBe(0);

class Recorder implements BatchListener {
  completedBatches: CompletedBatch[] = [];
  started(): void {}
  completed(batch: CompletedBatch): void {
    this.completedBatches.push(batch);
  }
}

function group(model: EngineSpec['model'], count: number) {
  const topic = new KafkaTopic(
    Array.from({ length: 12 }, () => 1),
    600,
  );
  const listener = new Recorder();
  const g = new EngineGroup(
    {
      capacity: 100,
      startupSeconds: 30,
      rebalancePauseSeconds: 10,
      batchOverheadSeconds: 0.5,
      triggerSeconds: 10,
      capacityJitter: 0,
      instanceSkew: 0,
      ...(model && { model }),
    },
    topic,
    seededRandom(3),
    listener,
  );
  g.bootstrap(count);
  return { topic, g, listener };
}

describe('simulator model mismatches', () => {
  it('cooperative rebalance keeps untouched members consuming; eager stops everyone', () => {
    const outcome = (mode: 'eager' | 'cooperative') => {
      const { topic, g } = group({ rebalance: mode }, 4);
      let t = 0;
      const advance = (to: number) => {
        for (; t < to; t += 0.1) {
          topic.produce(600, 0.1);
          g.step(t, Infinity);
        }
      };
      advance(25);
      g.scaleTo(6, t);
      advance(80);
      return g.abandonedRows;
    };
    // Going 4 -> 6 over 12 partitions: shares 3 -> 2, every member loses a partition in both modes,
    // but the eager group also pauses 10 s while the cooperative one pauses only the moving members.
    expect(outcome('cooperative')).toBeLessThanOrEqual(outcome('eager'));
    const eager = run(withModel({ rebalance: 'eager' }), new Fixed(3, 4, 300_000));
    const coop = run(withModel({ rebalance: 'cooperative' }), new Fixed(3, 4, 300_000));
    conserved(eager);
    conserved(coop);
    expect(coop.summary.maxLagSeconds).toBeLessThan(eager.summary.maxLagSeconds);
  });

  it('sublinear scaling: the same group processes less, so the lag grows', () => {
    const ideal = run(fixtureProfile(base), new Fixed(4));
    const sub = run(withModel({ sublinearExponent: 0.5 }), new Fixed(4));
    conserved(sub);
    // 4 instances at 1000 × 4^-0.5 = 500/s each: 2000/s against 3000/s produced.
    expect(ideal.summary.maxLagSeconds).toBeLessThan(60);
    expect(sub.summary.maxLagSeconds).toBeGreaterThan(200);
  });

  it('non-linear batch cost makes large (catch-up) batches slower than linear', () => {
    // Two instances fall behind for 5 minutes (no backpressure), then six catch up in big batches.
    const catchUp = () => new Fixed(2, 6, 300_000);
    const lin = simulate(fixtureProfile(base), catchUp(), { pid: false });
    const steep = simulate(withModel({ batchCostExponent: 1.5 }), catchUp(), { pid: false });
    conserved(steep);
    expect(steep.summary.maxBatchDurationSeconds).toBeGreaterThan(lin.summary.maxBatchDurationSeconds);
  });

  it('start-up times drawn from a distribution: new instances become ready at different times', () => {
    const { g } = group({ startupSigma: 0.8 }, 1);
    g.scaleTo(9, 0);
    const readyAt: number[] = [];
    for (let t = 0; t < 600; t += 1) {
      g.step(t, Infinity);
      readyAt.push(g.readyCount);
    }
    const distinct = new Set(readyAt);
    expect(distinct.size).toBeGreaterThan(3);
    const fixed = group(undefined, 1).g;
    fixed.scaleTo(9, 0);
    fixed.step(29, Infinity);
    expect(fixed.readyCount).toBe(1);
    fixed.step(30, Infinity);
    expect(fixed.readyCount).toBe(9);
  });

  it('start-up per instance added: a larger scale-out starts later; a one-instance one and a full restart do not', () => {
    const readyAfter = (model: EngineSpec['model'], from: number, to: number, full = false) => {
      const { g } = group(model, from);
      g.scaleTo(to, 0, full);
      for (let t = 0; t <= 120; t += 1) {
        g.step(t, Infinity);
        if (g.readyCount === to) return t;
      }
      return null;
    };
    const model = { startupPerAddedSeconds: 10 };
    // 30 s of start-up (the group's spec), then 10 s for each instance beyond the first added.
    expect(readyAfter(model, 1, 2)).toBe(30);
    expect(readyAfter(model, 1, 4)).toBe(50);
    expect(readyAfter(model, 2, 4)).toBe(40);
    expect(readyAfter(undefined, 1, 4)).toBe(30);
    expect(readyAfter(model, 1, 4, true)).toBe(30);
  });

  it("a cold first batch: a new process's first batch runs longer; the instances present at the start and later batches do not", () => {
    const batches = (cold: number | undefined) => {
      const { topic, g, listener } = group(
        cold === undefined ? undefined : { coldFirstBatchSeconds: cold },
        1,
      );
      g.scaleTo(2, 0);
      for (let t = 0; t < 300; t += 0.5) {
        topic.produce(120, 0.5);
        g.step(t, Infinity);
      }
      return listener.completedBatches.filter((b) => b.rows > 0);
    };
    const warm = batches(undefined);
    const cold = batches(20);
    // Same engine otherwise: the instance the group started with runs the same first batch.
    const first = (list: CompletedBatch[], instance: number) => list.find((b) => b.instance === instance)!;
    expect(first(cold, 0).duration).toBeCloseTo(first(warm, 0).duration, 9);
    // The new instance (id 1, ready at the 30 s start-up): its first batch carries the 20 s.
    const newWarm = first(warm, 1);
    const newCold = first(cold, 1);
    expect(newCold.startAt).toBe(newWarm.startAt);
    expect(newCold.duration - (0.5 + newCold.rows / 100)).toBeCloseTo(20, 9);
    expect(newWarm.duration - (0.5 + newWarm.rows / 100)).toBeCloseTo(0, 9);
    // Its later batches are warm again.
    for (const b of cold.filter((x) => x.instance === 1).slice(1))
      expect(b.duration - (0.5 + b.rows / 100)).toBeCloseTo(0, 9);
    expect(cold.filter((x) => x.instance === 1).length).toBeGreaterThan(3);
    // As engines report it: the new process counts its batches with rows from 1; the one the run
    // started with ran before t = 0 and reports no count.
    const counts = (instance: number) =>
      cold.filter((x) => x.instance === instance).map((b) => b.processRowBatches);
    expect(counts(1).slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(new Set(counts(0))).toEqual(new Set([undefined]));
  });

  it('a full restart (Flink) makes every instance a new process: each counts from 1 and its first batch is cold', () => {
    const { topic, g, listener } = group({ coldFirstBatchSeconds: 20 }, 1);
    g.scaleTo(2, 0, true);
    for (let t = 0; t < 300; t += 0.5) {
      topic.produce(120, 0.5);
      g.step(t, Infinity);
    }
    const batches = listener.completedBatches.filter((b) => b.rows > 0);
    for (const instance of [0, 1]) {
      const own = batches.filter((b) => b.instance === instance);
      expect(own.slice(0, 3).map((b) => b.processRowBatches)).toEqual([1, 2, 3]);
      expect(own[0]!.duration - (0.5 + own[0]!.rows / 100)).toBeCloseTo(20, 9);
      expect(own[1]!.duration - (0.5 + own[1]!.rows / 100)).toBeCloseTo(0, 9);
    }
  });

  it("a scale-out's new processes show in the control loop's samples as first batches, once each", () => {
    const seen = new Map<number, ScalingInput['samples'][number]>();
    class Watching extends Fixed {
      override decide(input: ScalingInput): ScalingDecision {
        for (const sample of input.samples) seen.set(sample.timeMs, sample);
        return super.decide(input);
      }
    }
    conserved(run(withModel({}), new Watching(1, 3, 300_000)));
    const samples = [...seen.values()];
    // The instance the run starts with reports no count; the two new ones one first batch each.
    expect(samples.filter((x) => x.timeMs < 300_000).every((x) => x.firstBatches === undefined)).toBe(true);
    expect(samples.reduce((n, x) => n + (x.firstBatches ?? 0), 0)).toBe(2);
    expect(samples.some((x) => x.minProcessRowBatches !== undefined && x.minProcessRowBatches > 1)).toBe(
      true,
    );
  });

  it('hot partitions move on their own seed: traffic is the same whatever the policy does', () => {
    const p = withModel({ hotPartitions: { count: 2, factor: 4, moveEverySeconds: 120 } });
    const a = run(p, new Fixed(3));
    const b = run(p, new Fixed(6));
    conserved(a);
    conserved(b);
    expect(a.producedRecords).toBe(b.producedRecords);
    const topic = new KafkaTopic([1, 1, 1, 1], 10);
    topic.setWeights([4, 1, 1, 2]);
    topic.produce(800, 1);
    expect([...topic.produced]).toEqual([400, 100, 100, 200]);
  });

  it('a full restart (Flink) takes every instance down for the start-up, not only the new ones', () => {
    const full = run(fixtureProfile(base), new Fixed(3, 4, 300_000, 'full'));
    const incremental = run(fixtureProfile(base), new Fixed(3, 4, 300_000));
    conserved(full);
    const readyAfter = (r: ReturnType<typeof simulate>) => r.timeline.find((x) => x.t === 310)?.ready;
    expect(readyAfter(full)).toBe(0);
    expect(readyAfter(incremental)).toBe(3);
  });

  it('rejects unknown or out-of-range model fields, naming them', () => {
    expect(() => withModel({ rebalance: 'sticky' })).toThrow(/model.rebalance/);
    expect(() => withModel({ warp: 1 })).toThrow(/model.warp: unknown field/);
    expect(() => withModel({ sublinearExponent: 2 })).toThrow(/sublinearExponent/);
    expect(() => withModel({ startupPerAddedSeconds: -1 })).toThrow(/model.startupPerAddedSeconds/);
    expect(() => withModel({ startupPerAddedSeconds: 3601 })).toThrow(/model.startupPerAddedSeconds/);
    expect(() => withModel({ hotPartitions: { count: 0, factor: 2, moveEverySeconds: 60 } })).toThrow(
      /hotPartitions.count/,
    );
  });
});
