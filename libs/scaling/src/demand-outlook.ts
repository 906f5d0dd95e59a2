// What the query will have to carry: the produce rate now, over the last minute, its recent peak,
// and an upward trend that is only believed when it looks like a ramp.
import type { LagSample, ScalingInput } from './types';
import { linearFit, produceRate, produceRateSeries, slope } from './window-stats';

export interface DemandOutlook {
  /** Produce rate over the last control tick (records/s): reacts to a step within one tick. */
  now: number;
  /**
   * Produce rate over the tick span before that one, or undefined when the window does not reach
   * back so far: with `now`, it tells a rise that arrived within the last tick.
   */
  previousTick: number | undefined;
  /**
   * Produce rate over about the last third of the tick (from the read nearest a third of a tick
   * back, between a sixth and a half), or undefined when no read falls there: how the tick ended,
   * where lag reads come more often than decisions.
   */
  recent: number | undefined;
  /** Produce rate over the last minute: steadier, for everything but reacting. */
  minute: number;
  /** Trusted upward trend (records/s per s); 0 unless the recent past is a ramp. */
  trend: number;
  /** Trusted downward trend (records/s per s, as a positive number); 0 unless demand is descending. */
  fall: number;
}

/**
 * The span `now` is measured over: one control tick (the simulator decides every 15 s; the live
 * loop by default every 10 s).
 */
export const TICK_SPAN_MS = 15_000;
const MINUTE_MS = 60_000;
const TREND_SPAN_MS = 360_000;
export const SLICE_MS = 30_000;
/** A trend must add at least this fraction of demand over the trend span to count... */
const TREND_SIGNIFICANCE = 0.05;
/** ...and be this many standard errors above zero. */
const TREND_T_STAT = 3;
/**
 * ...and the slower half must move at least this share of the faster one's pace: a step with
 * noise in the other half passes the tests above now and then, a ramp or a descent does not
 * change pace fivefold within six minutes.
 */
const HALVES_AGREEMENT = 0.2;

/**
 * `timeScale` multiplies every span here (1 in production). A replay in compressed time (the live
 * bench plays a profile `speedup` times faster) passes 1 / speedup, so the outlook covers the same
 * stretch of the profile as it does in the simulator.
 */
export function demandOutlook(input: ScalingInput, timeScale = 1): DemandOutlook | undefined {
  const now = produceRate(input.samples, input.lag, input.nowMs, TICK_SPAN_MS * timeScale);
  const minute = produceRate(input.samples, input.lag, input.nowMs, MINUTE_MS * timeScale);
  if (now === undefined || minute === undefined) return undefined;
  const tickMs = TICK_SPAN_MS * timeScale;
  const reachesBack = (input.lag[0]?.timeMs ?? Infinity) <= input.nowMs - 2 * tickMs;
  const previousTick = reachesBack
    ? produceRate(input.samples, input.lag, input.nowMs - tickMs, tickMs)
    : undefined;
  const points = trendPoints(input, timeScale);
  const spanSeconds = (TREND_SPAN_MS * timeScale) / 1000;
  return {
    now,
    previousTick,
    recent: recentRate(input, tickMs),
    minute,
    trend: trustedSlope(points, 1, spanSeconds),
    fall: trustedSlope(points, -1, spanSeconds),
  };
}

/** See DemandOutlook.recent. End offsets only: consumed rows cannot be split within a tick. */
function recentRate(input: ScalingInput, tickMs: number): number | undefined {
  const end = input.lag[input.lag.length - 1];
  if (!end || end.endOffsets === undefined) return undefined;
  let start: LagSample | undefined;
  for (let i = input.lag.length - 2; i >= 0; i--) {
    const l = input.lag[i]!;
    const back = end.timeMs - l.timeMs;
    if (back > tickMs / 2) break;
    if (back < tickMs / 6 || l.endOffsets === undefined) continue;
    if (!start || Math.abs(back - tickMs / 3) < Math.abs(end.timeMs - start.timeMs - tickMs / 3)) start = l;
  }
  if (!start || start.endOffsets === undefined) return undefined;
  return (end.endOffsets - start.endOffsets) / ((end.timeMs - start.timeMs) / 1000);
}

/** Highest 30 s produce rate within the last `spanMs`, and the last minute's (`timeScale`: as above). */
export function peakDemand(input: ScalingInput, spanMs: number, minute: number, timeScale = 1): number {
  const slices = produceRateSeries(input.samples, input.lag, input.nowMs, spanMs, SLICE_MS * timeScale);
  return Math.max(minute, ...slices.map((p) => p.rate));
}

function trendPoints(input: ScalingInput, timeScale: number): { x: number; y: number }[] {
  const series = produceRateSeries(
    input.samples,
    input.lag,
    input.nowMs,
    TREND_SPAN_MS * timeScale,
    SLICE_MS * timeScale,
  );
  return series.map((p) => ({
    x: p.timeMs / 1000,
    y: p.rate,
  }));
}

/**
 * The trend in `direction` (1 up, -1 down) as a positive slope, or 0. The older and the newer half
 * of the last six minutes must both move that way, the whole fit must be well clear of noise, and
 * the move must be a noticeable share of demand. A step moves in one half only: it is a new level,
 * not a trend to extrapolate. Downwards this is what lets a scale-down stop carrying a peak that a
 * steady descent has left behind.
 */
export function trustedSlope(
  points: readonly { x: number; y: number }[],
  direction: 1 | -1,
  spanSeconds = TREND_SPAN_MS / 1000,
): number {
  if (points.length < 6) return 0;
  const half = Math.floor(points.length / 2);
  const older = direction * slope(points.slice(0, half));
  const newer = direction * slope(points.slice(half));
  const move = Math.min(older, newer);
  const whole = linearFit(points);
  // The share is of the higher end of the window (the newer end of a rise, the older of a fall).
  const level = Math.max(points[0]?.y ?? 0, points[points.length - 1]?.y ?? 0);
  const significant =
    direction * whole.slope > TREND_T_STAT * whole.slopeError &&
    move * spanSeconds >= TREND_SIGNIFICANCE * level &&
    move >= HALVES_AGREEMENT * Math.max(older, newer);
  return move > 0 && significant ? Math.min(move, direction * whole.slope) : 0;
}
