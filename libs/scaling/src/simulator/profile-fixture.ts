// The profile the simulator's tests and the frontier's tests start from: 12 partitions, instances
// of 1,000 records/s that take 30 s to start and pause 10 s on a rebalance, 1 to 12 of them, a 10 s
// trigger and a 60 s lag objective. Each test gives what it is about (input, length, noise, model).
import { parseProfile, type Profile } from './profile';

export function fixtureProfile(fields: {
  name: string;
  durationSeconds: number;
  input: readonly { at: number; rate: number }[];
  noise: { seed: number; capacityJitter: number };
  model?: Record<string, unknown>;
}): Profile {
  return parseProfile({
    partitions: 12,
    instance: {
      capacity: 1000,
      startupSeconds: 30,
      rebalancePauseSeconds: 10,
      minInstances: 1,
      maxInstances: 12,
    },
    triggerSeconds: 10,
    slo: { maxLagSeconds: 60 },
    ...fields,
  });
}

/** The fixture with one step: `from` records/s until `atSeconds`, `to` from a second later. */
export function stepFixture(
  name: string,
  step: { from: number; to: number; atSeconds: number; durationSeconds: number },
  noise: { seed: number; capacityJitter: number },
): Profile {
  return fixtureProfile({
    name,
    durationSeconds: step.durationSeconds,
    input: [
      { at: 0, rate: step.from },
      { at: step.atSeconds, rate: step.from },
      { at: step.atSeconds + 1, rate: step.to },
      { at: step.durationSeconds, rate: step.to },
    ],
    noise,
  });
}
