// Builders for policy inputs in unit tests: steady micro-batch progress and lag histories.
import type { LagSample, ProgressSample, ScalingInput, ScalingLimits } from '../types';

export const LIMITS: ScalingLimits = { minInstances: 1, maxInstances: 48, partitions: 48 };

export interface SteadyTraffic {
  /** Produced records/s. */
  rate: number;
  instances: number;
  /** Per-instance rows/s while busy. */
  capacity?: number;
  overheadSeconds?: number;
  triggerSeconds?: number;
  partitions?: number;
  /** Lag (seconds) reported at every sample. */
  lagSeconds?: number;
}

/** One aggregated sample per trigger in (fromS, toS], every batch reading one trigger of input. */
export function steadySamples(fromS: number, toS: number, t: SteadyTraffic): ProgressSample[] {
  const T = t.triggerSeconds ?? 10;
  const capacity = t.capacity ?? 1000;
  const overhead = t.overheadSeconds ?? 0.5;
  const partitions = t.partitions ?? 48;
  const out: ProgressSample[] = [];
  for (let s = Math.floor(fromS / T) * T + T; s <= toS; s += T) {
    const rows = t.rate * T;
    const busiest = (rows * Math.ceil(partitions / t.instances)) / partitions;
    const duration = overhead + busiest / capacity;
    out.push({
      timeMs: (s + duration) * 1000 - T * 1000,
      inputRowsPerSecond: t.rate,
      processedRowsPerSecond: rows / duration,
      batchDurationMs: Math.round(duration * 1000),
      numInputRows: rows,
      triggerMs: T * 1000,
      instances: t.instances,
      busyMs: Math.round(duration * 1000 * t.instances),
    });
  }
  return out;
}

/** Per-second lag with exact end offsets for a constant produce rate. */
export function steadyLag(
  fromS: number,
  toS: number,
  rate: number,
  lagSeconds = 10,
  startOffset = 0,
): LagSample[] {
  const out: LagSample[] = [];
  for (let s = fromS; s <= toS; s++) {
    out.push({
      timeMs: s * 1000,
      records: rate * lagSeconds,
      seconds: lagSeconds,
      endOffsets: startOffset + rate * (s - fromS),
    });
  }
  return out;
}

export function input(
  overrides: Partial<ScalingInput> & Pick<ScalingInput, 'nowMs' | 'currentInstances'>,
): ScalingInput {
  return { samples: [], lag: [], limits: LIMITS, ...overrides };
}

/** Per-second lag whose end offsets follow `rateAt(second)`. */
export function lagFollowing(
  fromS: number,
  toS: number,
  rateAt: (s: number) => number,
  lagSeconds = 10,
): LagSample[] {
  const out: LagSample[] = [];
  let end = 0;
  for (let s = fromS; s <= toS; s++) {
    if (s > fromS) end += rateAt(s);
    out.push({ timeMs: s * 1000, records: rateAt(s) * lagSeconds, seconds: lagSeconds, endOffsets: end });
  }
  return out;
}
