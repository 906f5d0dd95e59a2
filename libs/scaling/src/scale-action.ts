// What the live loop does with a policy's decision: clamp it to the limits, hold it back during the
// cooldown or while another operation runs, act only in 'auto' mode, and work out which rate limit
// the engines must be sent (the PID cap, never above the operator's own limit). Pure: the loop
// gathers the facts (last scale action, running operation, what it sent before) and performs the
// result, so every rule here is tested without a database or a clock.
import { clampInstances, upperBound } from './policies/limits';
import type { ScalingLimits } from './types';

export type ScalingMode = 'observe' | 'auto';
export type ScaleDirection = 'up' | 'down' | 'none';

export interface ScaleActionInput {
  mode: ScalingMode;
  /** Whether the PID rate cap may be applied (the query's backpressure switch). */
  backpressure: boolean;
  currentInstances: number;
  /** The policy's decision: instances wanted and, for backpressure, a read rate in records/s. */
  decision: { instances: number; rateLimit?: number };
  limits: ScalingLimits;
  triggerMs: number;
  nowMs: number;
  cooldownMs: number;
  /**
   * How soon a scale-up may follow any scale action (the shorter of this and the cooldown); a
   * scale-down waits the whole cooldown. As Kubernetes' HPA by default: no stabilisation for a
   * scale-up and one scale-up every 15 s, while scale-downs are damped
   * (pkg/apis/autoscaling/v2/defaults.go). Why: the input a scale-up answers is not changed by
   * instances still starting. Live, a first decision taken on a sample that straddled a step asked
   * for too few (1 → 2 on 11,898/s one second before the sample read 18,758/s) and, held for the
   * whole cooldown, the rest came 50 profile seconds later; simulated, a burst returning within a
   * minute of a scale-down was held the same way (bursty: 71 → 287.5 violation seconds at the
   * median of 10 seeds when an up after a down waited the cooldown; BENCHMARKS.md 2026-12-06).
   * Flapping is left to the policy's own reversal guard and to the scale-down's cooldown.
   */
  upHoldMs: number;
  /** The loop's last change of this query's instance count, if any within the cooldown. */
  lastScale: { atMs: number; direction: ScaleDirection } | null;
  /** An operation of the query that is queued or running (a scale would be refused with 409). */
  activeOperation: { id: string; type: string } | null;
  /** The operator's own maxOffsetsPerTrigger, or null for none. */
  operatorRateLimit: number | null;
  /** What the loop last sent this query's engines: undefined = never, null = lifted. */
  sentRateLimit: number | null | undefined;
}

export interface ScaleActionPlan {
  target: number;
  direction: ScaleDirection;
  /** Change the instance count to `target` now. */
  scale: boolean;
  /** maxOffsetsPerTrigger the PID cap asks for, when backpressure applies. */
  pidOffsetsPerTrigger: number | undefined;
  /** A setRateLimit command to send (value null lifts the limit), or null when nothing changed. */
  sendRateLimit: { value: number | null } | null;
  /** Why the result differs from the policy's decision, in words for the scaling event. */
  notes: string[];
}

/**
 * The control plane's defaults (SLUICE_SCALING_COOLDOWN_MS, SLUICE_SCALING_UP_HOLD_MS): the
 * live loop's and the simulated Sluice's, one source for both.
 */
export const SCALE_GATE_DEFAULTS = { cooldownMs: 60_000, upHoldMs: 15_000 } as const;

/**
 * The control plane's default tick (SLUICE_SCALING_INTERVAL_MS): the live bench runs its loop at
 * this divided by the speedup and simulates its prediction with ticks this far apart.
 */
export const SCALING_INTERVAL_DEFAULT_MS = 10_000;

/** How long after the last scale action a change in `direction` is held back (ms). */
export function scaleHoldMs(
  direction: ScaleDirection,
  gate: { cooldownMs: number; upHoldMs: number },
): number {
  return direction === 'up' ? Math.min(gate.cooldownMs, gate.upHoldMs) : gate.cooldownMs;
}

export function directionOf(from: number, to: number): ScaleDirection {
  return to > from ? 'up' : to < from ? 'down' : 'none';
}

/** Query-wide maxOffsetsPerTrigger for a read-rate cap in records/s. */
export function offsetsPerTrigger(rateLimit: number, triggerMs: number): number {
  return Math.max(1, Math.ceil((rateLimit * Math.max(triggerMs, 1)) / 1000));
}

/** Whether the loop needs the cooldown and operation facts at all (it reads them only then). */
export function wantsToScale(mode: ScalingMode, currentInstances: number, target: number): boolean {
  return mode === 'auto' && target !== currentInstances;
}

export function decideScaleAction(input: ScaleActionInput): ScaleActionPlan {
  const { limits, currentInstances: current } = input;
  const target = clampInstances(input.decision.instances, limits);
  const direction = directionOf(current, target);
  const notes: string[] = [];
  if (target !== input.decision.instances)
    notes.push(
      `clamped ${input.decision.instances} to ${target} (min ${limits.minInstances}, max ${upperBound(limits)}, ${limits.partitions} partitions)`,
    );

  let scale = false;
  if (wantsToScale(input.mode, current, target)) {
    const last = input.lastScale;
    const sinceLast = last === null ? Infinity : input.nowMs - last.atMs;
    const hold = last === null ? 0 : scaleHoldMs(direction, input);
    if (hold > 0 && sinceLast < hold)
      notes.push(
        `cooldown: last scale action (${last?.direction}) ${Math.round(sinceLast / 1000)} s ago (< ${hold / 1000} s${
          hold < input.cooldownMs ? ' before a scale-up' : ''
        })`,
      );
    else if (input.activeOperation)
      notes.push(
        `skipped: operation ${input.activeOperation.id} (${input.activeOperation.type}) is in progress`,
      );
    else scale = true;
  }

  const pid =
    input.mode === 'auto' && input.backpressure && input.decision.rateLimit !== undefined
      ? offsetsPerTrigger(input.decision.rateLimit, input.triggerMs)
      : undefined;
  // The PID cap never lifts the operator's own limit; without a cap the operator's limit applies.
  const wanted =
    pid === undefined
      ? input.operatorRateLimit
      : Math.min(pid, input.operatorRateLimit ?? Number.POSITIVE_INFINITY);
  const sent = input.sentRateLimit;
  // Nothing is sent before the loop has a cap of its own; afterwards every change is sent,
  // including giving the operator's limit back when the cap goes away.
  const sendRateLimit =
    (sent === undefined && pid !== undefined) || (sent !== undefined && sent !== wanted)
      ? { value: wanted }
      : null;
  if (sendRateLimit) notes.push(`rate limit ${sendRateLimit.value ?? 'lifted'} offsets/trigger`);

  return { target, direction, scale, pidOffsetsPerTrigger: pid, sendRateLimit, notes };
}
