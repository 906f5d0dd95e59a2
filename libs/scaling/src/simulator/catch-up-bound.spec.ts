// The simulated engines bound their catch-up batches as the real engine does (batch-bound.ts): a
// hot instance no longer takes a whole backlog in one batch, and a backlog still drains.
import { describe, expect, it } from 'vitest';
import { INITIAL_BATCH_RECORDS, batchTimeBudgetMs } from '../batch-bound';
import type { ScalingDecision, ScalingPolicy } from '../types';
import { EngineGroup, type BatchBoundUnits, type BatchListener, type CompletedBatch } from './engine-group';
import { KafkaTopic } from './kafka-topic';
import { seededRandom } from './prng';
import { fixtureProfile } from './profile-fixture';
import { simulate } from './simulate';

const TRIGGER_SECONDS = 10;
const OVERHEAD_SECONDS = 0.5;

class Recorder implements BatchListener {
  batches: CompletedBatch[] = [];
  started(): void {}
  completed(batch: CompletedBatch): void {
    if (batch.rows > 0) this.batches.push(batch);
  }
}

/** One instance of 1,000 records/s on 4 partitions (one 3× hot), 60,000 records behind at t = 0. */
function catchUp(batchBound: boolean | BatchBoundUnits, seconds: number) {
  const topic = new KafkaTopic([3, 1, 1, 1], seconds);
  topic.produce(60_000, 1);
  const recorder = new Recorder();
  const group = new EngineGroup(
    {
      capacity: 1000,
      startupSeconds: 30,
      rebalancePauseSeconds: 10,
      batchOverheadSeconds: OVERHEAD_SECONDS,
      triggerSeconds: TRIGGER_SECONDS,
      capacityJitter: 0,
      instanceSkew: 0,
      batchBound,
    },
    topic,
    seededRandom(1),
    recorder,
  );
  group.bootstrap(1);
  for (let tick = 0; tick <= seconds * 10; tick++) group.step(tick / 10, Infinity);
  return { batches: recorder.batches, backlog: topic.lagRecords() };
}

describe('catch-up batch bound in the simulator', () => {
  it("bounds a hot instance's batch by the throughput it measured, and still drains the backlog", () => {
    const unbounded = catchUp(false, 200);
    // Without the bound the first batch is the whole backlog: a minute of work.
    expect(unbounded.batches[0]?.rows).toBe(60_000);
    expect(unbounded.batches[0]?.duration).toBeCloseTo(60.5, 5);

    const bounded = catchUp(true, 200);
    // Nothing measured yet: the engine's initial trigger size.
    expect(bounded.batches[0]?.rows).toBeLessThanOrEqual(INITIAL_BATCH_RECORDS);
    // Then about one trigger interval of work per batch (the budget), never a minute.
    const budget = batchTimeBudgetMs(TRIGGER_SECONDS * 1000) / 1000;
    for (const b of bounded.batches) expect(b.duration).toBeLessThanOrEqual(budget + OVERHEAD_SECONDS);
    expect(bounded.batches.length).toBeGreaterThan(5);
    // The backlog drains all the same, at close to the instance's capacity (batches back to back).
    expect(bounded.backlog).toBe(0);
    const done = bounded.batches.at(-1) as CompletedBatch;
    expect(done.endAt).toBeLessThan(60 * 1.25);
  });

  it("bounds as engines on another clock and scale do when given their bound's units", () => {
    // A live replay at 10x: the engine's 4 s budget is 40 profile s, and its counts are live
    // records (here one live record stands for 0.5 profile records).
    const units: BatchBoundUnits = { budgetSeconds: 40, initialRecords: 2500, minRecords: 250 };
    const live = catchUp(units, 200);
    expect(live.batches[0]?.rows).toBeLessThanOrEqual(2500);
    // Batches now run up to the longer budget: longer than the profile clock's one trigger.
    const longest = Math.max(...live.batches.map((b) => b.duration));
    expect(longest).toBeGreaterThan(batchTimeBudgetMs(TRIGGER_SECONDS * 1000) / 1000 + OVERHEAD_SECONDS);
    for (const b of live.batches) expect(b.duration).toBeLessThanOrEqual(40 + OVERHEAD_SECONDS);
    expect(live.backlog).toBe(0);
  });

  it('keeps every record and drains a backlog a larger group takes over', () => {
    // 2 instances for 3,000/s (they fall behind for 5 min), then 6: the backlog must clear.
    class TwoThenSix implements ScalingPolicy {
      readonly name = 'two-then-six';
      decide(input: { nowMs: number }): ScalingDecision {
        return { instances: input.nowMs < 300_000 ? 2 : 6, reason: 'fixed', inputs: {} };
      }
    }
    const profile = fixtureProfile({
      name: 'catch-up',
      durationSeconds: 1200,
      input: [
        { at: 0, rate: 3000 },
        { at: 1200, rate: 3000 },
      ],
      noise: { seed: 11, capacityJitter: 0.05 },
    });
    const run = (batchBound: boolean) =>
      simulate(profile, new TwoThenSix(), { pid: false, batchBound, timelineEverySeconds: 60 });
    const bounded = run(true);
    const unbounded = run(false);
    expect(bounded.summary.lostRecords).toBe(0);
    expect(bounded.producedRecords).toBe(bounded.processedRecords + bounded.backlogRecords);
    expect(bounded.summary.maxLagSeconds).toBeGreaterThan(60);
    // Caught up by the end, and the longest batch is one trigger's budget, not the backlog.
    expect(bounded.timeline.at(-1)?.lagSeconds).toBeLessThan(20);
    expect(bounded.summary.maxBatchDurationSeconds).toBeLessThanOrEqual(batchTimeBudgetMs(10_000) / 1000 + 1);
    expect(unbounded.summary.maxBatchDurationSeconds).toBeGreaterThan(
      bounded.summary.maxBatchDurationSeconds,
    );
  });
});
