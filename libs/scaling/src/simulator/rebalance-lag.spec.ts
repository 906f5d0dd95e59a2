// Issue 19, slow-ramp: new instances join one by one and every join pauses the group for 10 s
// (eager rebalancing), so a scale-up leaves a lag of a minute or more behind it. Read as missing
// capacity, that lag made sluice scale up again (12 -> 16 -> 24 -> 48 at ~6,500 records/s, where
// 24 instances carry the ramp until ~11,000/s); the run below is the shipped profile's own seed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SluicePolicy } from '../policies/sluice';
import { parseProfile } from './profile';
import { simulate } from './simulate';

const profile = parseProfile(
  JSON.parse(
    readFileSync(path.resolve(__dirname, '../../../../bench/profiles/unseen/slow-ramp.json'), 'utf8'),
  ),
);

/** As the live loop runs sluice (only its own read cap), at the frontier table's tick. */
function run(discountPauseBacklog: 0 | 1) {
  return simulate(profile, new SluicePolicy({ discountPauseBacklog }), { pid: 'policy', tickSeconds: 0.5 });
}

/** The 60 s input rate when the group was first asked for `instances` or more. */
function inputRateWhenFirstAt(result: ReturnType<typeof run>, instances: number): number | undefined {
  return result.actions.find((a) => a.to >= instances)?.inputRate;
}

describe('sluice on a slow ramp with eager rebalances', () => {
  it('reads the lag its own joins left as missing capacity without the pause backlog rule, not with it', () => {
    const before = run(0);
    const after = run(1);
    // Before: all 48 instances while the input is about half of what 24 carry.
    expect(inputRateWhenFirstAt(before, 48)).toBeLessThan(8000);
    // After: 48 only once the ramp is past what 24 carry.
    expect(inputRateWhenFirstAt(after, 48)).toBeGreaterThan(10_000);
    expect(after.summary.instanceSeconds).toBeLessThan(0.8 * before.summary.instanceSeconds);
    // The objective still holds (≤ 1 % of the 8 h) and nothing is lost.
    expect(after.summary.sloViolationSeconds).toBeLessThanOrEqual(0.01 * profile.durationSeconds);
    expect(after.summary.lostRecords).toBe(0);
    expect(after.summary.reversals).toBe(0);
  });
});
