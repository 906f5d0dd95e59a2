// Shared limit handling: policies never go below the minimum or beyond max(instances, partitions).
import type { ScalingLimits } from '../types';

export function upperBound(limits: ScalingLimits): number {
  return Math.max(limits.minInstances, Math.min(limits.maxInstances, limits.partitions));
}

export function clampInstances(n: number, limits: ScalingLimits): number {
  return Math.min(upperBound(limits), Math.max(limits.minInstances, n));
}

export function assertValidLimits(limits: ScalingLimits): void {
  const { minInstances, maxInstances, partitions } = limits;
  if (!Number.isInteger(minInstances) || minInstances < 1) {
    throw new RangeError(`minInstances must be an integer >= 1, got ${minInstances}`);
  }
  if (!Number.isInteger(maxInstances) || maxInstances < minInstances) {
    throw new RangeError(`maxInstances must be an integer >= minInstances, got ${maxInstances}`);
  }
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be an integer >= 1, got ${partitions}`);
  }
}
