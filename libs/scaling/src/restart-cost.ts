// What a rescale costs, measured rather than configured: how long new instances take to start
// consuming, and how long consumption stops while the group rebalances. Both start from priors
// and move toward what was observed (exponential average, so one odd restart does not dominate).
import type { ProgressSample } from './types';

const WEIGHT_OF_NEW_OBSERVATION = 0.5;

export class RestartCost {
  startupSeconds: number;
  pauseSeconds: number;
  private pendingSinceMs: number | undefined;
  private previous: ProgressSample | undefined;

  constructor(startupPrior: number, pausePrior: number) {
    this.startupSeconds = startupPrior;
    this.pauseSeconds = pausePrior;
  }

  /**
   * Start-up: from the tick that first saw instances pending (or the action that asked for them)
   * to the tick that saw them all ready. Pause: between the last batch of the old membership
   * ending and the first batch of the new one starting.
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
    for (const sample of samples) {
      const prev = this.previous;
      if (prev && sample.timeMs <= prev.timeMs) continue;
      const gap = prev && membershipPauseSeconds(prev, sample);
      if (gap !== undefined) this.pauseSeconds = blend(this.pauseSeconds, gap);
      this.previous = sample;
    }
  }

  /** Seconds until instances already starting are up (0 when none are). */
  remainingStartup(nowMs: number): number {
    if (this.pendingSinceMs === undefined) return 0;
    return Math.max(0, this.startupSeconds - (nowMs - this.pendingSinceMs) / 1000);
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
