// What the query will have to carry: the produce rate now, over the last minute, its recent peak,
// and an upward trend that is only believed when it looks like a ramp.
import type { ScalingInput } from './types';
import { linearFit, produceRate, produceRateSeries, slope } from './window-stats';

export interface DemandOutlook {
  /** Produce rate over the last control tick (records/s): reacts to a step within one tick. */
  now: number;
  /** Produce rate over the last minute: steadier, for everything but reacting. */
  minute: number;
  /** Trusted upward trend (records/s per s); 0 unless the recent past is a ramp. */
  trend: number;
  /** Trusted downward trend (records/s per s, as a positive number); 0 unless demand is descending. */
  fall: number;
}

const TICK_SPAN_MS = 15_000;
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
  const points = trendPoints(input, timeScale);
  const spanSeconds = (TREND_SPAN_MS * timeScale) / 1000;
  return {
    now,
    minute,
    trend: trustedSlope(points, 1, spanSeconds),
    fall: trustedSlope(points, -1, spanSeconds),
  };
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
