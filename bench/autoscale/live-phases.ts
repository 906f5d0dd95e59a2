// The simulation a live run is set beside, run as the live loop runs: ticks at the control plane's
// default interval, every policy behind the control plane's scale gate, only the policy's own read
// cap (the control plane runs no PID estimator; scale-action.ts sends the policy's rateLimit), and
// every phase of the ticks against the profile. Where a tick falls is not known before the run
// (the loop's ticks start when the control plane did), and on a step it moves the violation
// seconds by a factor of several (run L's calibrated step: 0 to 34 over the ten phases), so the
// prediction is the middle run over all phases and the report gives their range.
import {
  batchTimeBudgetMs,
  INITIAL_BATCH_RECORDS,
  MIN_BATCH_RECORDS,
  SCALE_GATE_DEFAULTS,
  SCALING_INTERVAL_DEFAULT_MS,
  simulate,
  type BatchBoundUnits,
  type Profile,
  type SimulationSummary,
} from '@sluice/scaling';
import { benchPolicy } from './run-matrix';

export interface PhasedSimulation {
  /** The run ranked in the middle of all phases by violation seconds (the upper one of two). */
  summary: SimulationSummary;
  /** Least and most violation seconds over the phases. */
  violationRange: [number, number];
  /** Every phase's run, index = the phase in whole profile seconds. */
  byPhase: PhaseRun[];
}

/** One phase's run: its summary and when it scaled (profile seconds). */
export interface PhaseRun {
  summary: SimulationSummary;
  actionSeconds: number[];
}

/** Ticks this many profile seconds apart, as the live bench runs the loop (run-live.ts). */
export const LIVE_TICK_SECONDS = SCALING_INTERVAL_DEFAULT_MS / 1000;

/**
 * The live engines' batch bound in the profile's units (engine-group.ts BatchBoundUnits): their
 * budget is live time (`triggerMs` is the live trigger), their counts live records, and one live
 * record stands for speedup ÷ rateScale profile records (the generator plays a profile second's
 * rate × rateScale in 1 ÷ speedup live seconds).
 */
export function liveBatchBound(live: {
  rateScale: number;
  speedup: number;
  triggerMs: number;
}): BatchBoundUnits {
  if (!(live.rateScale > 0) || !(live.speedup > 0) || !(live.triggerMs > 0))
    throw new RangeError('rateScale, speedup and triggerMs must be positive');
  const profileRecords = live.speedup / live.rateScale;
  return {
    budgetSeconds: (batchTimeBudgetMs(live.triggerMs) / 1000) * live.speedup,
    initialRecords: INITIAL_BATCH_RECORDS * profileRecords,
    minRecords: MIN_BATCH_RECORDS * profileRecords,
  };
}

/** `bound`: the live engines' batch bound (liveBatchBound); absent, the profile's own clock's. */
export function simulateAsLive(profile: Profile, policy: string, bound?: BatchBoundUnits): PhasedSimulation {
  const byPhase = Array.from({ length: LIVE_TICK_SECONDS }, (_, phase): PhaseRun => {
    const run = simulate(profile, benchPolicy(policy, profile), {
      pid: 'policy',
      decisionIntervalSeconds: LIVE_TICK_SECONDS,
      decisionPhaseSeconds: phase,
      gate: SCALE_GATE_DEFAULTS,
      ...(bound && { batchBound: bound }),
    });
    return { summary: run.summary, actionSeconds: run.actions.map((a) => a.timeSeconds) };
  });
  return { ...middleOverPhases(byPhase.map((r) => r.summary)), byPhase };
}

export function middleOverPhases(
  runs: readonly SimulationSummary[],
): Pick<PhasedSimulation, 'summary' | 'violationRange'> {
  if (runs.length === 0) throw new RangeError('no runs to take the middle of');
  const sorted = [...runs].sort((a, b) => a.sloViolationSeconds - b.sloViolationSeconds);
  return {
    summary: sorted[Math.floor(sorted.length / 2)] as SimulationSummary,
    violationRange: [
      (sorted[0] as SimulationSummary).sloViolationSeconds,
      (sorted[sorted.length - 1] as SimulationSummary).sloViolationSeconds,
    ],
  };
}
