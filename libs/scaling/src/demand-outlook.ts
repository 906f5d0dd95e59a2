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
}

const TICK_SPAN_MS = 15_000;
const MINUTE_MS = 60_000;
const TREND_SPAN_MS = 360_000;
export const SLICE_MS = 30_000;
/** A trend must add at least this fraction of demand over the trend span to count... */
const TREND_SIGNIFICANCE = 0.05;
/** ...and be this many standard errors above zero. */
const TREND_T_STAT = 3;

export function demandOutlook(input: ScalingInput): DemandOutlook | undefined {
  const now = produceRate(input.samples, input.lag, input.nowMs, TICK_SPAN_MS);
  const minute = produceRate(input.samples, input.lag, input.nowMs, MINUTE_MS);
  if (now === undefined || minute === undefined) return undefined;
  return { now, minute, trend: rampTrend(input) };
}

/** Highest 30 s produce rate within the last `spanMs`, and the last minute's. */
export function peakDemand(input: ScalingInput, spanMs: number, minute: number): number {
  const slices = produceRateSeries(input.samples, input.lag, input.nowMs, spanMs, SLICE_MS);
  return Math.max(minute, ...slices.map((p) => p.rate));
}

/**
 * The older and the newer half of the last six minutes must both rise, the whole fit must be well
 * clear of noise, and the rise must be a noticeable share of demand. A step rises in one half
 * only: it is a new level, not a trend to extrapolate.
 */
function rampTrend(input: ScalingInput): number {
  const points = produceRateSeries(input.samples, input.lag, input.nowMs, TREND_SPAN_MS, SLICE_MS).map(
    (p) => ({
      x: p.timeMs / 1000,
      y: p.rate,
    }),
  );
  if (points.length < 6) return 0;
  const half = Math.floor(points.length / 2);
  const rise = Math.min(slope(points.slice(0, half)), slope(points.slice(half)));
  const whole = linearFit(points);
  const level = points[points.length - 1]?.y ?? 0;
  const significant =
    whole.slope > TREND_T_STAT * whole.slopeError &&
    rise * (TREND_SPAN_MS / 1000) >= TREND_SIGNIFICANCE * level;
  return rise > 0 && significant ? Math.min(rise, whole.slope) : 0;
}
