// A RUNNING engine is not yet capacity: a cold one still joins the group and runs a slow first
// batch before its partitions are read. The sluice policy leads a ramp by the time its scale-outs
// took to read (RestartCost.arrivalSeconds), not by the start-up alone.
import { describe, expect, it } from 'vitest';
import { SluicePolicy } from '../policies/sluice';
import type { DecisionInputs, ScalingDecision, ScalingInput, ScalingPolicy } from '../types';
import { fixtureProfile } from './profile-fixture';
import { simulate } from './simulate';

class Recording implements ScalingPolicy {
  readonly name = 'sluice';
  readonly decisions: Array<{ nowMs: number; inputs: DecisionInputs }> = [];
  private readonly inner = new SluicePolicy();
  decide(input: ScalingInput): ScalingDecision {
    const d = this.inner.decide(input);
    this.decisions.push({ nowMs: input.nowMs, inputs: d.inputs });
    return d;
  }
}

/** A ramp from 2,000 to 11,000/s over 50 minutes on the fixture's instances (start-up 30 s, pause 10 s). */
function ramp(coldFirstBatchSeconds: number) {
  const profile = fixtureProfile({
    name: 'arrival-lead',
    durationSeconds: 3600,
    input: [
      { at: 0, rate: 2000 },
      { at: 600, rate: 2000 },
      { at: 3600, rate: 11000 },
    ],
    noise: { seed: 3, capacityJitter: 0 },
    model: { coldFirstBatchSeconds },
  });
  const policy = new Recording();
  const result = simulate(profile, policy, { pid: 'policy', tickSeconds: 0.5 });
  return { result, decisions: policy.decisions };
}

const num = (v: unknown) => (typeof v === 'number' ? v : NaN);

describe('the lead a ramp is scaled by', () => {
  it("is the time a scale-out took until its new processes' first batches committed, when longer than the start-up", () => {
    const { result, decisions } = ramp(40);
    expect(result.producedRecords - result.processedRecords - result.backlogRecords).toBe(0);
    const measured = decisions.filter(
      (d) => d.inputs.onlineSeconds !== null && d.inputs.onlineSeconds !== undefined,
    );
    expect(measured.length).toBeGreaterThan(0);
    // Start-up 30 s, pause 10 s, then a first batch of 40 s over its rows' own time.
    for (const d of measured) expect(num(d.inputs.onlineSeconds)).toBeGreaterThan(30 + 10 + 40);
    // Where demand rises, the scale-up threshold is tested on the demand that far ahead: the
    // reported trigger demand leads the current level by the trend times the online time.
    const rising = measured.filter((d) => num(d.inputs.trend) > 1 && d.inputs.triggerDemand !== undefined);
    expect(rising.length).toBeGreaterThan(0);
    for (const d of rising) {
      const level = Math.max(num(d.inputs.demandNow), num(d.inputs.demand));
      const leadSeconds = (num(d.inputs.triggerDemand) - level) / num(d.inputs.trend);
      expect(leadSeconds).toBeGreaterThan(num(d.inputs.onlineSeconds) - 2);
      // The start-up and pause alone (the lead before) are well short of it.
      expect(leadSeconds).toBeGreaterThan(num(d.inputs.startupSeconds) + num(d.inputs.pauseSeconds) + 10);
    }
  });

  it('is the start-up and the pause when first batches run warm (the first batch is then about a trigger)', () => {
    const { decisions } = ramp(0);
    const measured = decisions.filter((d) => typeof d.inputs.onlineSeconds === 'number');
    expect(measured.length).toBeGreaterThan(0);
    for (const d of measured) expect(num(d.inputs.onlineSeconds)).toBeLessThan(30 + 10 + 2 * 10 + 1);
  });
});
