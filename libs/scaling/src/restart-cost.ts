// What a rescale costs, measured rather than configured: how long new instances take to start
// consuming, and how long consumption stops while the group rebalances. Both start from priors
// and move toward what was observed (exponential average, so one odd restart does not dominate).
import type { ProgressSample } from './types';

const WEIGHT_OF_NEW_OBSERVATION = 0.5;

/** A scale-out whose new instances have not all committed a batch with rows yet. */
interface AwaitingOnline {
  sinceMs: number;
  added: number;
}

export class RestartCost {
  startupSeconds: number;
  pauseSeconds: number;
  /**
   * Seconds from a scale-out's decision until every instance it added had committed its first
   * batch with rows (engines report `processRowBatches`); undefined until one was seen.
   */
  onlineSeconds: number | undefined;
  private pendingSinceMs: number | undefined;
  private previous: ProgressSample | undefined;
  private awaiting: AwaitingOnline | undefined;
  private lastCurrent: number | undefined;
  private lastObservedMs: number | undefined;

  constructor(startupPrior: number, pausePrior: number) {
    this.startupSeconds = startupPrior;
    this.pauseSeconds = pausePrior;
  }

  /**
   * Start-up: from the tick that first saw instances pending (or the action that asked for them)
   * to the tick that saw them all ready. Pause: between the last batch of the old membership
   * ending and the first batch of the new one starting. Online: from a scale-out's action to the
   * interval in which the last of its new processes committed its first batch with rows.
   */
  observe(
    nowMs: number,
    current: number,
    ready: number,
    lastActionMs: number | undefined,
    samples: readonly ProgressSample[],
  ): void {
    if (ready < current) {
      this.pendingSinceMs ??= lastActionMs ?? nowMs;
    } else if (this.pendingSinceMs !== undefined) {
      this.startupSeconds = blend(this.startupSeconds, (nowMs - this.pendingSinceMs) / 1000);
      this.pendingSinceMs = undefined;
    }
    this.observeOnline(nowMs, current, lastActionMs, samples);
    for (const sample of samples) {
      const prev = this.previous;
      if (prev && sample.timeMs <= prev.timeMs) continue;
      const gap = prev && membershipPauseSeconds(prev, sample);
      if (gap !== undefined) this.pauseSeconds = blend(this.pauseSeconds, gap);
      this.previous = sample;
    }
  }

  /**
   * Seconds from a decision until new instances read, their rebalance pause apart (it is charged
   * on its own): the start-up, or longer when the scale-outs seen took longer to commit their first
   * batches. A RUNNING engine is not yet capacity: under a 0.1-CPU quota it still joined the group
   * and ran a cold first batch of 2–5 live seconds before its partitions were read (BENCHMARKS.md,
   * 2026-12-06), and a lead of the start-up alone scaled a ramp out that much late.
   */
  get arrivalSeconds(): number {
    return Math.max(this.startupSeconds, (this.onlineSeconds ?? 0) - this.pauseSeconds);
  }

  /** Seconds until instances already starting read (0 when none are starting). */
  remainingArrival(nowMs: number): number {
    if (this.pendingSinceMs === undefined) return 0;
    return Math.max(0, this.arrivalSeconds - (nowMs - this.pendingSinceMs) / 1000);
  }

  /**
   * Counts the first batches committed since the scale-out under way, recounted each time from
   * the samples (an interval's sample grows as its batches commit). Only a scale-out from a group
   * that was all online is measured: the first batches of two overlapping ones cannot be told
   * apart in aggregated samples, so a second action before the first is online drops both.
   */
  private observeOnline(
    nowMs: number,
    current: number,
    lastActionMs: number | undefined,
    samples: readonly ProgressSample[],
  ): void {
    const previous = this.lastCurrent;
    const observedMs = this.lastObservedMs;
    this.lastCurrent = current;
    this.lastObservedMs = nowMs;
    if (previous !== undefined && current !== previous) {
      // The policy's action when it is the one that changed the count since the last look; an
      // operator's scale is timed from this look.
      const sinceMs =
        lastActionMs !== undefined && observedMs !== undefined && lastActionMs >= observedMs
          ? lastActionMs
          : nowMs;
      this.awaiting =
        current > previous && this.awaiting === undefined
          ? { sinceMs, added: current - previous }
          : undefined;
    }
    const awaiting = this.awaiting;
    if (!awaiting) return;
    let firsts = 0;
    for (const sample of samples) {
      if (sample.timeMs <= awaiting.sinceMs || sample.firstBatches === undefined) continue;
      firsts += sample.firstBatches;
      if (firsts < awaiting.added) continue;
      const seconds = (sample.timeMs - awaiting.sinceMs) / 1000;
      this.onlineSeconds = this.onlineSeconds === undefined ? seconds : blend(this.onlineSeconds, seconds);
      this.awaiting = undefined;
      return;
    }
  }
}

/**
 * Seconds nothing was consumed between two consecutive samples when the membership changed between
 * them: from the last batch of the old membership ending to the first batch of the new one
 * starting (the rebalance pause plus any batch it abandoned); undefined when it did not change.
 */
export function membershipPauseSeconds(prev: ProgressSample, next: ProgressSample): number | undefined {
  if (next.instances === undefined || prev.instances === undefined || next.instances === prev.instances)
    return undefined;
  const gapMs = next.timeMs - next.batchDurationMs - prev.timeMs;
  return gapMs >= 0 ? gapMs / 1000 : undefined;
}

function blend(old: number, observed: number): number {
  return (1 - WEIGHT_OF_NEW_OBSERVATION) * old + WEIGHT_OF_NEW_OBSERVATION * observed;
}
