// Rates derived from a decision window. The produce rate is what the query must keep up with; it is
// measured from Kafka offsets (end offsets when known, else consumed rows plus lag growth), never
// from what the engines happened to read, which backpressure and rebalances distort.
import type { LagSample, ProgressSample } from './types';

/** Latest lag sample at or before `timeMs` (the first one if none is that old). */
export function lagAt(lag: readonly LagSample[], timeMs: number): LagSample | undefined {
  let found: LagSample | undefined;
  for (const sample of lag) {
    if (sample.timeMs > timeMs) break;
    found = sample;
  }
  return found ?? lag[0];
}

/** Rows committed by samples completed in (fromMs, toMs]. */
export function rowsBetween(samples: readonly ProgressSample[], fromMs: number, toMs: number): number {
  let rows = 0;
  for (const s of samples) if (s.timeMs > fromMs && s.timeMs <= toMs) rows += s.numInputRows;
  return rows;
}

/** Produce rate (records/s) over the last `spanMs` before `nowMs`, or undefined without data. */
export function produceRate(
  samples: readonly ProgressSample[],
  lag: readonly LagSample[],
  nowMs: number,
  spanMs: number,
): number | undefined {
  const end = lagAt(lag, nowMs);
  const start = lagAt(lag, nowMs - spanMs);
  if (!end || !start || end.timeMs <= start.timeMs) return undefined;
  const seconds = (end.timeMs - start.timeMs) / 1000;
  if (end.endOffsets !== undefined && start.endOffsets !== undefined) {
    return (end.endOffsets - start.endOffsets) / seconds;
  }
  const consumed = rowsBetween(samples, start.timeMs, end.timeMs);
  return Math.max(0, (consumed + end.records - start.records) / seconds);
}

/** Least-squares slope of y over x; 0 with fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  return linearFit(points).slope;
}

/** Means and centred second moments of (x, y) points: the sums a least-squares fit needs. */
export function moments(points: readonly { x: number; y: number }[]): {
  n: number;
  mx: number;
  my: number;
  sxx: number;
  sxy: number;
} {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = n > 0 ? sx / n : 0;
  const my = n > 0 ? sy / n : 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  return { n, mx, my, sxx, sxy };
}

/** Least-squares line with the slope's standard error (infinite when it cannot be estimated). */
export function linearFit(points: readonly { x: number; y: number }[]): {
  slope: number;
  intercept: number;
  slopeError: number;
} {
  const n = points.length;
  if (n < 2) return { slope: 0, intercept: points[0]?.y ?? 0, slopeError: Number.POSITIVE_INFINITY };
  const { mx, my, sxx, sxy } = moments(points);
  if (sxx === 0) return { slope: 0, intercept: my, slopeError: Number.POSITIVE_INFINITY };
  const b = sxy / sxx;
  const a = my - b * mx;
  let residuals = 0;
  for (const p of points) residuals += (p.y - a - b * p.x) ** 2;
  const slopeError = n > 2 ? Math.sqrt(residuals / (n - 2) / sxx) : Number.POSITIVE_INFINITY;
  return { slope: b, intercept: a, slopeError };
}

/** Produce rates over consecutive `stepMs` slices covering `spanMs` before now, oldest first. */
export function produceRateSeries(
  samples: readonly ProgressSample[],
  lag: readonly LagSample[],
  nowMs: number,
  spanMs: number,
  stepMs: number,
): { timeMs: number; rate: number }[] {
  const series: { timeMs: number; rate: number }[] = [];
  const first = lag[0];
  if (!first) return series;
  for (let t = nowMs - spanMs + stepMs; t <= nowMs; t += stepMs) {
    if (t - stepMs < first.timeMs) continue;
    const rate = produceRate(samples, lag, t, stepMs);
    if (rate !== undefined) series.push({ timeMs: t, rate });
  }
  return series;
}

/**
 * Rate at which the query processes rows while busy (records/s for all instances together): rows
 * over per-instance busy time, as Flink derives its "true processing rate" from busy time.
 */
export function trueProcessingRate(samples: readonly ProgressSample[]): number | undefined {
  let rows = 0;
  let busySeconds = 0;
  for (const s of samples) {
    const instances = Math.max(1, s.instances ?? 1);
    const busyMs = s.busyMs !== undefined ? s.busyMs / instances : s.batchDurationMs;
    if (busyMs <= 0 || s.numInputRows <= 0) continue;
    rows += s.numInputRows;
    busySeconds += busyMs / 1000;
  }
  return busySeconds > 0 ? rows / busySeconds : undefined;
}
