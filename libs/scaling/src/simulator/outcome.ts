// Scoring of a simulated run, kept apart from the mechanics so the definitions are easy to audit.
import { nominalRateAt, type RatePoint } from './profile';

export interface ScaleAction {
  timeSeconds: number;
  from: number;
  to: number;
  reason: string;
  /** Produce rate over the 60 s before the action (records/s). */
  inputRate: number;
}

/** Two actions within this many seconds in opposite directions may count as an oscillation. */
export const OSCILLATION_WINDOW_SECONDS = 600;
/** ...when the input rate moved less than this fraction between them. */
export const OSCILLATION_RATE_CHANGE = 0.1;

/**
 * Actions that reverse the previous action within 10 minutes while the input rate changed by less
 * than 10 %: capacity bought and given back (or the reverse) for no change in demand.
 */
export function countOscillations(actions: readonly ScaleAction[]): number {
  let count = 0;
  for (let i = 1; i < actions.length; i++) {
    const a = actions[i - 1] as ScaleAction;
    const b = actions[i] as ScaleAction;
    const reversed = Math.sign(b.to - b.from) === -Math.sign(a.to - a.from);
    const soon = b.timeSeconds - a.timeSeconds <= OSCILLATION_WINDOW_SECONDS;
    const base = Math.max(a.inputRate, 1e-9);
    const steady = Math.abs(b.inputRate - a.inputRate) / base < OSCILLATION_RATE_CHANGE;
    if (reversed && soon && steady) count++;
  }
  return count;
}

/**
 * Actions from the step until the query has converged: the lag is back under the objective for
 * good and no further action follows, "for good" meaning until the input next moves by 10 % from
 * its post-step level (or the run ends). An action after the lag recovered (trimming an
 * overshoot, say) still counts: convergence was not over. `lagBySecond[s]` is the time lag at
 * second s. Null when the profile has no step.
 */
export function countActionsToConverge(
  actions: readonly ScaleAction[],
  lagBySecond: ArrayLike<number>,
  sloSeconds: number,
  input: readonly RatePoint[],
  stepAt: number | undefined,
  durationSeconds: number,
): number | null {
  if (stepAt === undefined) return null;
  const settled = nominalRateAt(input, stepAt + 60);
  let windowEnd = durationSeconds;
  for (let s = Math.ceil(stepAt + 60); s < durationSeconds; s++) {
    if (Math.abs(nominalRateAt(input, s) - settled) >= OSCILLATION_RATE_CHANGE * settled) {
      windowEnd = s;
      break;
    }
  }
  let convergedAt = stepAt;
  for (let s = Math.ceil(stepAt); s < Math.min(windowEnd, lagBySecond.length); s++) {
    if ((lagBySecond[s] ?? 0) > sloSeconds) convergedAt = s + 1;
  }
  for (const a of actions) {
    if (a.timeSeconds >= stepAt && a.timeSeconds < windowEnd)
      convergedAt = Math.max(convergedAt, a.timeSeconds);
  }
  return actions.filter((a) => a.timeSeconds >= stepAt && a.timeSeconds <= convergedAt).length;
}
