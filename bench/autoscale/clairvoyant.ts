// A reference, not a policy anyone could run: it reads the profile's future input rate and sizes
// the group with the simulator's own engine equations. It exists to say what a cost target asks
// for. If even a group sized with perfect foresight of the rate, at a given busy fraction, spends
// more than the target allows, the target can only be met by running hotter than that fraction
// (issue 19's frontier: "a goal is one that can fail"; this shows which way it fails).
//
// What it knows: the nominal rate over the time its own action takes to land, the capacity per
// instance with the profile's sublinear scaling and batch-cost exponent, the fixed batch cost, the
// partition alignment, and how many hot partitions there are and how hot. What it does not know:
// the noise (input, capacity and partition jitter, instance skew, start-up spread) and where the
// hot partitions sit, so it prices the worst pairing, as sluice does without a known placement.
import {
  clampInstances,
  nominalRateAt,
  type Profile,
  type ScalingDecision,
  type ScalingInput,
  type ScalingPolicy,
  worstBusiestShare,
} from '@sluice/scaling';

/** Scans of the rate ahead are this fine (s). */
const LOOKAHEAD_STEP_SECONDS = 5;

export class ClairvoyantPolicy implements ScalingPolicy {
  readonly name = 'clairvoyant';
  /** Time from a decision until its new instances carry load: start-up, rejoin, one trigger (s). */
  private readonly leadSeconds: number;

  constructor(
    private readonly profile: Profile,
    /** Busy share of the trigger interval the group is sized for (the swept knob). */
    private readonly busyFraction: number,
    /** The simulator's control interval (s): a decision holds until the next one. */
    decisionIntervalSeconds = 15,
  ) {
    if (!(busyFraction > 0 && busyFraction <= 1))
      throw new RangeError(`busyFraction must be in (0, 1], got ${busyFraction}`);
    const i = profile.instance;
    this.leadSeconds =
      i.startupSeconds + i.rebalancePauseSeconds + profile.triggerSeconds + decisionIntervalSeconds;
  }

  decide(input: ScalingInput): ScalingDecision {
    const now = input.nowMs / 1000;
    // The peak of the rate from now until an action taken now would carry load: a scale-up lands
    // in time for it, and a scale-down never leaves fewer than that peak needs.
    let peak = 0;
    for (let t = now; t <= now + this.leadSeconds; t += LOOKAHEAD_STEP_SECONDS)
      peak = Math.max(peak, nominalRateAt(this.profile.input, t));
    const instances = clampInstances(this.smallestCarrying(peak, input.limits.maxInstances), input.limits);
    return {
      instances,
      reason: `rate ahead ${Math.round(peak)}/s at busy ${this.busyFraction}`,
      inputs: { peakAhead: Math.round(peak), busyFraction: this.busyFraction },
    };
  }

  /** The fewest instances whose group sustains `rate` at the busy fraction (the most if none do). */
  smallestCarrying(rate: number, max: number): number {
    const upper = Math.min(max, this.profile.partitions);
    for (let n = 1; n <= upper; n++) if (groupRate(this.profile, n, this.busyFraction) >= rate) return n;
    return upper;
  }
}

/**
 * Records/s `n` instances sustain when each batch takes `busy` of the trigger interval, by the
 * simulator's engine (`libs/scaling` `simulator/engine-group.ts`): duration = overhead + T ·
 * work^e with work = rows / (speed · T) and speed = capacity · n^-sublinear; the busiest instance
 * paces the group, holding ceil(P / n) partitions and, at worst, every hot partition that fits.
 */
export function groupRate(profile: Profile, n: number, busy: number): number {
  const T = profile.triggerSeconds;
  const overhead = profile.instance.batchOverheadSeconds ?? 0.5;
  const model = profile.model;
  const room = (busy * T - overhead) / T;
  if (room <= 0) return 0;
  const work = room ** (1 / (model?.batchCostExponent ?? 1));
  const speed = profile.instance.capacity * Math.max(1, n) ** -(model?.sublinearExponent ?? 0);
  const perInstance = work * speed;
  // The partitions' shares of the input, hottest first, priced as sluice prices a placement it
  // does not know (`libs/scaling` `partition-load.ts`).
  const P = profile.partitions;
  const hot = model?.hotPartitions;
  const hotCount = hot ? Math.min(hot.count, P) : 0;
  const weights = Array.from({ length: P }, (_, i) => (i < hotCount ? (hot?.factor ?? 1) : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  return (
    perInstance /
    worstBusiestShare(
      weights.map((w) => w / total),
      n,
    )
  );
}
