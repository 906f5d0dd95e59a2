// Simulator invariants: no record is ever lost or invented, and a seed fixes the outcome.
import { describe, expect, it } from 'vitest';
import { policyByName } from '../policies/registry';
import type { ScalingDecision, ScalingInput, ScalingPolicy } from '../types';
import type { Profile } from './profile';
import { fixtureProfile } from './profile-fixture';
import { simulate } from './simulate';

const profile: Profile = fixtureProfile({
  name: 'test-step',
  durationSeconds: 1800,
  input: [
    { at: 0, rate: 2000 },
    { at: 600, rate: 2000 },
    { at: 601, rate: 6000 },
    { at: 1200, rate: 6000 },
    { at: 1201, rate: 2000 },
  ],
  noise: { seed: 7, capacityJitter: 0.05 },
});

/** Flips between two sizes every minute: the worst case for rebalances and abandoned batches. */
class Flapper implements ScalingPolicy {
  readonly name = 'flapper';
  decide(input: ScalingInput): ScalingDecision {
    const instances = Math.floor(input.nowMs / 60_000) % 2 === 0 ? 3 : 7;
    return { instances, reason: 'flap', inputs: {} };
  }
}

/** Fixed size with a fixed read cap: what a policy's own backpressure does. */
class Capper implements ScalingPolicy {
  readonly name = 'capper';
  decide(input: ScalingInput): ScalingDecision {
    return { instances: input.currentInstances, rateLimit: 1000, reason: 'cap', inputs: {} };
  }
}

describe('simulator', () => {
  it("applies only the policy's own read cap with pid 'policy', none with pid off", () => {
    const capped = simulate(profile, new Capper(), { pid: 'policy', timelineEverySeconds: 60 });
    // From the first decision (15 s) on, reads are held to 1000/s whatever the PID would say.
    const at = (r: typeof capped, t: number) => r.timeline.find((p) => p.t === t);
    expect(at(capped, 600)?.rateLimit).toBe(1000);
    expect(capped.processedRecords).toBeLessThan(1000 * 1800 + 2000 * 15 + 50_000);
    expect(capped.summary.lostRecords).toBe(0);
    const free = simulate(profile, new Capper(), { pid: false, timelineEverySeconds: 60 });
    expect(at(free, 600)?.rateLimit).toBeNull();
    expect(free.processedRecords).toBeGreaterThan(capped.processedRecords * 1.5);
  });

  it.each(['spark-ratio', 'ds2', 'keda-lag', 'sluice'])(
    'conserves records with %s, PID on, off and policy-only',
    (name) => {
      for (const pid of [true, false, 'policy'] as const) {
        const policy = policyByName(name, { 'keda-lag': { lagThreshold: 10_000 } });
        const result = simulate(profile, policy, { pid });
        expect(result.summary.lostRecords).toBe(0);
        expect(result.producedRecords).toBe(result.processedRecords + result.backlogRecords);
        // Roughly the profile's volume was produced: 2000/s for 1200 s + 6000/s for 600 s, ±3 % noise.
        expect(result.producedRecords).toBeGreaterThan(0.95 * 6_000_000);
        expect(result.producedRecords).toBeLessThan(1.05 * 6_000_000);
      }
    },
  );

  it('splits a tight query-wide cap by backlog, so the instance with the hot partition keeps up', () => {
    // 12 partitions, one 6× hotter, 1500/s in: the hot partition's instance (3 of 12 partitions)
    // needs about 700/s, its even share of a 2000/s cap is 500/s, its backlog share is enough.
    const hot = fixtureProfile({
      name: 'test-hot',
      durationSeconds: 1800,
      input: [{ at: 0, rate: 1500 }],
      noise: { seed: 3, capacityJitter: 0 },
      model: { hotPartitions: { count: 1, factor: 6, moveEverySeconds: 100_000 } },
    });
    class FourCapped implements ScalingPolicy {
      readonly name = 'four-capped';
      decide(): ScalingDecision {
        return { instances: 4, rateLimit: 2000, reason: 'fixed', inputs: {} };
      }
    }
    const result = simulate(hot, new FourCapped(), { pid: 'policy' });
    expect(result.summary.lostRecords).toBe(0);
    // Only the start (instances come up after 30 s) is behind the objective.
    expect(result.summary.sloViolationSeconds).toBeLessThan(60);
    expect(result.backlogRecords).toBeLessThan(2000 * hot.triggerSeconds);
  });

  it('conserves records when rebalances abandon batches all the time', () => {
    const result = simulate(profile, new Flapper(), { pid: false });
    expect(result.abandonedRecords).toBeGreaterThan(0);
    expect(result.summary.lostRecords).toBe(0);
    expect(result.producedRecords).toBe(result.processedRecords + result.backlogRecords);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const run = (seed: number) =>
      simulate({ ...profile, noise: { ...profile.noise, seed } }, policyByName('sluice'));
    const a = run(7);
    const b = run(7);
    expect(b.summary).toEqual(a.summary);
    expect(b.actions).toEqual(a.actions);
    expect(b.producedRecords).toBe(a.producedRecords);
    expect(run(8).producedRecords).not.toBe(a.producedRecords);
  });

  it('produces the same traffic whatever the policy does', () => {
    const a = simulate(profile, policyByName('spark-ratio'));
    const b = simulate(profile, new Flapper());
    expect(b.producedRecords).toBe(a.producedRecords);
  });

  it('counts instance-seconds including instances that are still starting', () => {
    class Fixed implements ScalingPolicy {
      readonly name = 'fixed';
      decide(): ScalingDecision {
        return { instances: 5, reason: 'fixed', inputs: {} };
      }
    }
    const fixed = { ...profile, instance: { ...profile.instance, initialInstances: 5 } };
    expect(simulate(fixed, new Fixed()).summary.instanceSeconds).toBe(5 * 1800);
  });

  it('keeps catch-up batches short with PID backpressure or the batch bound, and lets them grow without', () => {
    const run = (pid: boolean, batchBound: boolean) =>
      simulate(profile, policyByName('ds2'), { pid, batchBound }).summary.maxBatchDurationSeconds;
    expect(run(true, false)).toBeLessThanOrEqual(2 * profile.triggerSeconds);
    expect(run(false, false)).toBeGreaterThan(2 * profile.triggerSeconds);
    // The engine's own bound (batch-bound.ts): about one trigger of work, PID or not.
    expect(run(false, true)).toBeLessThanOrEqual(profile.triggerSeconds + 1);
  });
});

describe("Sluice's control-plane hold in the simulation", () => {
  /** Up at 15 s, up again at 30 s, down at 45 s, up again at 60 s: what each gets to do. */
  class Scripted implements ScalingPolicy {
    readonly name = 'scripted';
    decide(input: ScalingInput): ScalingDecision {
      const s = input.nowMs / 1000;
      const instances = s < 15 ? 1 : s < 30 ? 2 : s < 45 ? 4 : s < 60 ? 2 : 5;
      return { instances, reason: 'script', inputs: {} };
    }
  }
  const short: Profile = {
    ...profile,
    durationSeconds: 240,
    instance: { ...profile.instance, initialInstances: 1 },
  };
  const moves = (r: ReturnType<typeof simulate>) => r.actions.map((a) => [a.timeSeconds, a.from, a.to]);
  // The script is written for ticks at 15, 30, 45 … s.
  const simulateAligned = (gate?: { cooldownMs: number; upHoldMs: number }) =>
    simulate(short, new Scripted(), { decisionPhaseSeconds: 0, ...(gate && { gate }) });

  it('without a gate every decision acts at once', () => {
    expect(moves(simulateAligned())).toEqual([
      [15, 1, 2],
      [30, 2, 4],
      [45, 4, 2],
      [60, 2, 5],
    ]);
  });

  it('with the gate a scale-up may follow any action after 15 s, a scale-down waits the cooldown', () => {
    const gated = simulateAligned({ cooldownMs: 60_000, upHoldMs: 15_000 });
    // 4 → 2 at 45 s is held (a scale-down 15 s after a scale-up); at 60 s the policy wants 5, 30 s
    // after the last action: allowed.
    expect(moves(gated)).toEqual([
      [15, 1, 2],
      [30, 2, 4],
      [60, 4, 5],
    ]);
    // With the scale-up wait as long as the cooldown, the second scale-up waits too (until 75 s).
    const slow = simulateAligned({ cooldownMs: 60_000, upHoldMs: 60_000 });
    expect(moves(slow)).toEqual([
      [15, 1, 2],
      [75, 2, 5],
    ]);
  });
});

describe('where the decision ticks fall', () => {
  /** Records when it was asked and never scales. */
  class Recorder implements ScalingPolicy {
    readonly name = 'recorder';
    readonly askedAt: number[] = [];
    decide(input: ScalingInput): ScalingDecision {
      this.askedAt.push(input.nowMs / 1000);
      return { instances: input.currentInstances, reason: 'record', inputs: {} };
    }
  }
  const asked = (p: Profile, options: Parameters<typeof simulate>[2] = {}) => {
    const recorder = new Recorder();
    const result = simulate(p, recorder, options);
    return { at: recorder.askedAt, produced: result.producedRecords };
  };

  it('asks at the phase plus whole intervals; the seed draws the phase and leaves the traffic alone', () => {
    const at4 = asked(profile, { decisionPhaseSeconds: 4 });
    expect(at4.at.slice(0, 3)).toEqual([4, 19, 34]);
    expect(at4.at.every((s) => (s - 4) % 15 === 0)).toBe(true);
    const phases = new Set<number>();
    for (let seed = 1; seed <= 12; seed++) {
      const seeded = { ...profile, noise: { ...profile.noise, seed } };
      const drawn = asked(seeded);
      const phase = drawn.at[0] as number;
      expect(phase).toBeGreaterThanOrEqual(1);
      expect(phase).toBeLessThanOrEqual(15);
      // Same seed, same phase; a fixed phase only moves the ticks, not what producers wrote.
      expect(asked(seeded).at).toEqual(drawn.at);
      expect(asked(seeded, { decisionPhaseSeconds: (phase + 7) % 15 }).produced).toBe(drawn.produced);
      phases.add(phase % 15);
    }
    expect(phases.size).toBeGreaterThan(4);
  });

  it('rejects a phase outside [0, interval) or between seconds, naming it', () => {
    for (const bad of [-1, 15, 2.5])
      expect(() => simulate(profile, new Recorder(), { decisionPhaseSeconds: bad })).toThrow(
        /decisionPhaseSeconds/,
      );
  });
});
