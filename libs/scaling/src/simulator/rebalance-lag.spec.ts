// Issue 19, slow-ramp: new instances join one by one and every join pauses the group for 10 s
// (eager rebalancing), so a scale-up leaves a lag of a minute or more behind it. Read as missing
// capacity, that lag made sluice scale up again (12 -> 16 -> 24 -> 48 at ~6,500 records/s, where
// 24 instances carry the ramp until ~11,000/s); the run below is the profile's own seed.
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
  it('goes to 48 for what 24 carry with two hot partitions on one instance, not for the lag of its joins', () => {
    // Without the pause backlog rule this run once went 24 -> 48 at 6,448/s (861,855 instance·s),
    // reading the lag its own joins left as missing capacity (and, fitted on the even share, the
    // long batches as a fixed cost). The profile has 6 hot partitions at 2x that move: 24
    // instances carry about 8,400/s when two of them share an instance (4 of 54 units of load on
    // one instance at 775 rows/s). The eager group places partitions by index, so sluice prices
    // the hot partitions where they sit at each count (partition-load.ts rangeBusiestShare): on
    // this seed they never pair at 24 and 48 comes at ~11,100/s (at ~8,400/s when the worst pairing
    // was assumed).
    for (const discountPauseBacklog of [0, 1] as const) {
      const result = run(discountPauseBacklog);
      expect(inputRateWhenFirstAt(result, 24)).toBeGreaterThan(5500);
      expect(inputRateWhenFirstAt(result, 48)).toBeGreaterThan(discountPauseBacklog ? 10_000 : 7500);
      // The objective still holds (≤ 1 % of the 8 h) and nothing is lost.
      expect(result.summary.sloViolationSeconds).toBeLessThanOrEqual(0.01 * profile.durationSeconds);
      expect(result.summary.lostRecords).toBe(0);
      expect(result.summary.reversals).toBe(0);
    }
    // Two 8-hour simulations: beyond vitest's 5 s default on a loaded shared box.
  }, 120_000);
});
