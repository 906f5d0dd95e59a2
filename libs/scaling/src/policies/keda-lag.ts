// KEDA's Kafka scaler driving a Kubernetes HPA with an AverageValue target: desired replicas =
// ceil(total lag / lagThreshold), capped at the partition count (idle consumers are useless;
// kedacore/keda pkg/scalers/kafka_scaler.go, `lagThreshold` default 10, `allowIdleConsumers`
// false). The HPA (kubernetes pkg/controller/podautoscaler/horizontal.go and
// replica_calculator.go) ignores changes within its 10 % tolerance, scales up by at most
// max(100 %, 4 pods) per 15 s period, and scales down only to the highest recommendation of the
// last 300 s (the default behavior's stabilisation window). The lag threshold is the one number a
// deployment must tune; the benchmark sweeps it over a decade.
import type { ScalingDecision, ScalingInput, ScalingPolicy } from '../types';
import { assertValidLimits, clampInstances } from './limits';

export interface KedaLagOptions {
  /** Target lag (records) per replica; KEDA's `lagThreshold`. */
  lagThreshold: number;
  tolerance?: number;
  scaleDownStabilizationSeconds?: number;
  /** HPA scale-up policies: the larger of +percent and +pods per period. */
  scaleUpPercent?: number;
  scaleUpPods?: number;
  scaleUpPeriodSeconds?: number;
}

export class KedaLagPolicy implements ScalingPolicy {
  readonly name = 'keda-lag';
  private readonly o: Required<KedaLagOptions>;
  private recommendations: { timeMs: number; replicas: number }[] = [];
  private lastScaleUpMs = Number.NEGATIVE_INFINITY;

  constructor(options: KedaLagOptions) {
    if (!(options.lagThreshold > 0))
      throw new RangeError(`lagThreshold must be > 0, got ${options.lagThreshold}`);
    this.o = {
      tolerance: 0.1,
      scaleDownStabilizationSeconds: 300,
      scaleUpPercent: 100,
      scaleUpPods: 4,
      scaleUpPeriodSeconds: 15,
      ...options,
    };
  }

  decide(input: ScalingInput): ScalingDecision {
    assertValidLimits(input.limits);
    const o = this.o;
    const current = input.currentInstances;
    const lag = input.lag[input.lag.length - 1];
    if (!lag) return { instances: current, reason: 'no lag measurement', inputs: {} };
    const usageRatio = lag.records / (o.lagThreshold * Math.max(1, current));
    // Within tolerance the HPA keeps the current count as its recommendation.
    const raw = Math.abs(usageRatio - 1) <= o.tolerance ? current : Math.ceil(lag.records / o.lagThreshold);
    const desired = clampInstances(raw, input.limits);
    const inputs = { lagRecords: lag.records, usageRatio, desired };

    const windowStart = input.nowMs - o.scaleDownStabilizationSeconds * 1000;
    this.recommendations = this.recommendations.filter((r) => r.timeMs > windowStart);
    this.recommendations.push({ timeMs: input.nowMs, replicas: desired });
    const stabilized = Math.max(...this.recommendations.map((r) => r.replicas));

    if (desired > current) {
      if (input.nowMs - this.lastScaleUpMs < o.scaleUpPeriodSeconds * 1000) {
        return { instances: current, reason: 'scale up rate-limited by HPA period', inputs };
      }
      const maxStep = Math.max(Math.ceil((current * o.scaleUpPercent) / 100), o.scaleUpPods);
      const instances = Math.min(desired, current + maxStep);
      this.lastScaleUpMs = input.nowMs;
      return { instances, reason: `lag ${Math.round(lag.records)} needs ${desired} replicas`, inputs };
    }
    if (stabilized < current) {
      return {
        instances: stabilized,
        reason: `highest recommendation over stabilization window is ${stabilized}`,
        inputs,
      };
    }
    return { instances: current, reason: 'no change', inputs };
  }
}
