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

/** The frontier's stricter reversal test: any two opposite actions within 15 minutes... */
export const REVERSAL_WINDOW_SECONDS = 900;

/**
 * Reversals the frontier counts: every pair of actions in opposite directions (not only
 * consecutive ones) at most 15 minutes apart while the measured input never moved 10 % away from
 * its level at the first action at any second in between. `inputRateBySecond[s]` is the produce
 * rate measured over the 60 s before second s, from the topic's offsets; the policy never sees
 * this series, and its guard compares only the two endpoints within 10 minutes.
 */
export function countReversals(
  actions: readonly ScaleAction[],
  inputRateBySecond: ArrayLike<number>,
): number {
  let count = 0;
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i] as ScaleAction;
    for (let j = i + 1; j < actions.length; j++) {
      const b = actions[j] as ScaleAction;
      if (b.timeSeconds - a.timeSeconds > REVERSAL_WINDOW_SECONDS) break;
      if (Math.sign(b.to - b.from) !== -Math.sign(a.to - a.from)) continue;
      // Live runs time actions in fractions of a second: the series is indexed by whole seconds
      // (a fractional index read nothing, so live reversals were never counted).
      const first = Math.floor(a.timeSeconds);
      const base = Math.max(inputRateBySecond[first] ?? 0, 1e-9);
      let steady = true;
      for (let s = first; s <= b.timeSeconds && s < inputRateBySecond.length; s++) {
        if (Math.abs((inputRateBySecond[s] ?? 0) - base) / base >= OSCILLATION_RATE_CHANGE) {
          steady = false;
          break;
        }
      }
      if (steady) {
        count++;
        break;
      }
    }
  }
  return count;
}
