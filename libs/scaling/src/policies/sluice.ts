// Sluice's own policy. What it does differently from the ratio, DS2 and lag rules:
// - a capacity model learned online (overhead + per-instance rate), so one action sizes the group
//   for the demand instead of stepping one instance at a time;
// - demand from Kafka offsets over the last control tick (reacts within one tick) plus a trend
//   that is only trusted when both halves of the recent past agree (a ramp, not a step);
// - the lag and its projected growth until new instances are up decide how much catch-up
//   capacity to add;
// - only partition-aligned counts (the busiest instance's partition count drops), since any other
//   count pays for an instance that does not raise throughput;
// - the restart (start-up, rebalance pause) is priced: scale-up is sized to be the last one, and
//   scale-down only happens when the saving outweighs the pause and the pause cannot breach the
//   lag objective;
// - hysteresis by direction: no reversal within the oscillation window unless demand really moved;
// - while new instances start it caps the read rate at what the ready ones sustain, so batches
//   stay short and the rebalance abandons little work.
import { CapacityModel, sustainableRate } from '../capacity-model';
import { alignedInstanceCounts } from '../partition-alignment';
import { RestartCost } from '../restart-cost';
import type { DecisionInputs, ScalingDecision, ScalingInput, ScalingPolicy } from '../types';
import { linearFit, produceRate, produceRateSeries, slope } from '../window-stats';
import { assertValidLimits, upperBound } from './limits';

export interface SluiceOptions {
  /** Busy fraction of the trigger interval the group is sized for. */
  targetUtilization?: number;
  /** Busy fraction (at the demand expected when new instances are up) that triggers a scale-up. */
  scaleUpUtilization?: number;
  /** How far ahead a trusted upward trend is extrapolated beyond the restart time (s). */
  lookaheadSeconds?: number;
  /** Demand peak over this window is what a scale-down must still carry (s). */
  peakWindowSeconds?: number;
  /** A scale-down must stay justified this long before it happens (s). */
  downHoldSeconds?: number;
  /** No reversal of the previous action within this window... (s) */
  reversalGuardSeconds?: number;
  /** ...unless demand moved by at least this fraction since that action. */
  reversalRateChange?: number;
  /** Restart time assumed until one is observed (s). */
  startupSecondsPrior?: number;
  rebalancePauseSecondsPrior?: number;
  /** Lag objective when the input does not carry one (s). */
  defaultSloSeconds?: number;
}

interface LastAction {
  timeMs: number;
  direction: 1 | -1;
  demand: number;
}

const TICK_RATE_SPAN_MS = 15_000;
const RATE_SPAN_MS = 60_000;
const TREND_SPAN_MS = 360_000;
const TREND_STEP_MS = 30_000;
/** A trend must add at least this fraction of demand over the trend span to count. */
const TREND_SIGNIFICANCE = 0.05;
/** ...and be this many standard errors above zero. */
const TREND_T_STAT = 3;
const CATCH_UP_SLO_PERIODS = 5;
/** Extra cost accepted for target (rather than merely sufficient) headroom. */
const HEADROOM_COST_LIMIT = 1.25;
/** Share of the lag objective a scale-down's pause may use up. */
const DOWN_LAG_BUDGET = 0.9;

export class SluicePolicy implements ScalingPolicy {
  readonly name = 'sluice';
  private readonly o: Required<SluiceOptions>;
  private model: CapacityModel | undefined;
  private lastAction: LastAction | undefined;
  private downSinceMs: number | undefined;
  private readonly restart: RestartCost;

  constructor(options: SluiceOptions = {}) {
    this.o = {
      targetUtilization: 0.85,
      scaleUpUtilization: 0.92,
      lookaheadSeconds: 180,
      peakWindowSeconds: 300,
      downHoldSeconds: 120,
      reversalGuardSeconds: 600,
      reversalRateChange: 0.15,
      startupSecondsPrior: 60,
      rebalancePauseSecondsPrior: 15,
      defaultSloSeconds: 60,
      ...options,
    };
    if (!(this.o.targetUtilization > 0 && this.o.targetUtilization < this.o.scaleUpUtilization)) {
      throw new RangeError('targetUtilization must be > 0 and below scaleUpUtilization');
    }
    this.restart = new RestartCost(this.o.startupSecondsPrior, this.o.rebalancePauseSecondsPrior);
  }

  decide(input: ScalingInput): ScalingDecision {
    assertValidLimits(input.limits);
    const { limits, nowMs } = input;
    const current = input.currentInstances;
    const ready = input.readyInstances ?? current;
    this.restart.observe(nowMs, current, ready, this.lastAction?.timeMs, input.samples);
    this.model ??= new CapacityModel(limits.partitions);
    this.model.observe(input.samples);
    const estimate = this.model.estimate();
    const lastLag = input.lag[input.lag.length - 1];
    const triggerSeconds = (input.samples[input.samples.length - 1]?.triggerMs ?? 0) / 1000;
    const demandNow = produceRate(input.samples, input.lag, nowMs, TICK_RATE_SPAN_MS);
    const demand = produceRate(input.samples, input.lag, nowMs, RATE_SPAN_MS);
    if (!estimate || !lastLag || triggerSeconds <= 0 || demandNow === undefined || demand === undefined) {
      return { instances: current, reason: 'learning capacity', inputs: {} };
    }

    const slo = input.sloMaxLagSeconds ?? this.o.defaultSloSeconds;
    const P = limits.partitions;
    const rateAt = (n: number, busy: number) => sustainableRate(estimate, n, P, triggerSeconds, busy);
    const candidates = alignedInstanceCounts(P, limits.minInstances, upperBound(limits));
    const smallestFitting = (rate: number, busy: number) =>
      candidates.find((n) => rateAt(n, busy) >= rate) ?? candidates[candidates.length - 1] ?? current;

    const trend = this.trend(input, nowMs);
    const { startupSeconds, pauseSeconds } = this.restart;
    const restartSeconds = startupSeconds + pauseSeconds;
    // Act on the demand expected once new instances could be up; size for a while beyond that so
    // a ramp does not need an action every restart time.
    const triggerDemand = Math.max(demandNow, demand) + trend * restartSeconds;
    const leadDemand = triggerDemand + trend * this.o.lookaheadSeconds;
    const readyRate = rateAt(ready, 1);
    const inputs: DecisionInputs = {
      demand: round(demand),
      demandNow: round(demandNow),
      trend: round(trend, 3),
      triggerDemand: round(triggerDemand),
      leadDemand: round(leadDemand),
      perInstanceRate: round(estimate.perInstanceRate),
      overheadSeconds: round(estimate.overheadSeconds, 3),
      readyRate: round(readyRate),
      lagSeconds: round(lastLag.seconds, 1),
      lagRecords: lastLag.records,
      startupSeconds: round(startupSeconds),
      pauseSeconds: round(pauseSeconds, 1),
    };
    // While instances start, read no faster than the ready ones finish within one trigger.
    const rateLimit = ready < current ? Math.max(1, readyRate) : undefined;
    const hold = (reason: string): ScalingDecision => ({ instances: current, rateLimit, reason, inputs });

    // Lag expected when new capacity would arrive: it keeps growing while demand exceeds what is
    // ready (until instances already starting are up, or a full start-up for new ones), then
    // every instance pauses for the rebalance.
    const untilArrival = ready < current ? this.restart.remainingStartup(nowMs) : startupSeconds;
    const growth = Math.max(0, 1 - readyRate / Math.max(demandNow, 1));
    const lagOnArrival = lastLag.seconds + growth * untilArrival + pauseSeconds;
    inputs.lagOnArrival = round(lagOnArrival, 1);
    // Drain what exceeds a normal trigger's worth within a few objective periods: faster would
    // buy instances that are given back minutes later.
    const excess = Math.max(0, lagOnArrival - 2 * triggerSeconds);
    const catchUpDemand = Math.max(demandNow, demand) * (1 + excess / (CATCH_UP_SLO_PERIODS * slo));
    // Size for the target utilisation, unless the aligned count that merely stays below the
    // scale-up threshold is much cheaper: a 50 % jump in cost for a few points of headroom is
    // not worth it (the next scale-up, if demand keeps rising, is sized again).
    const comfortable = smallestFitting(leadDemand, this.o.targetUtilization);
    const sufficient = smallestFitting(leadDemand, this.o.scaleUpUtilization);
    const sized = comfortable > HEADROOM_COST_LIMIT * sufficient ? sufficient : comfortable;
    const upTarget = Math.max(sized, smallestFitting(catchUpDemand, 1));
    inputs.upTarget = upTarget;

    const lagGrowing = demandNow > readyRate;
    const needsUp =
      triggerDemand > rateAt(current, this.o.scaleUpUtilization) ||
      (lastLag.seconds > slo / 2 && lagGrowing) ||
      lagOnArrival > slo;
    if (needsUp && upTarget > current) {
      this.downSinceMs = undefined;
      const emergency = lastLag.seconds > 0.75 * slo && lagGrowing;
      if (!emergency && this.reversalBlocked(nowMs, 1, demand)) return hold('scale-up held: would reverse the last action');
      return this.act(nowMs, current, upTarget, Math.max(demand, demandNow), inputs, rateLimit, 'demand above capacity');
    }
    if (ready < current) return hold('waiting for new instances');

    return this.considerDown(input, candidates, rateAt, slo, triggerSeconds, demand, trend, inputs, hold);
  }

  private considerDown(
    input: ScalingInput,
    candidates: readonly number[],
    rateAt: (n: number, busy: number) => number,
    slo: number,
    triggerSeconds: number,
    demand: number,
    trend: number,
    inputs: DecisionInputs,
    hold: (reason: string) => ScalingDecision,
  ): ScalingDecision {
    const { nowMs } = input;
    const current = input.currentInstances;
    // The lag saw-tooths over a trigger interval; judge by its recent top, not by where the
    // sample happened to fall.
    const lagSeconds = Math.max(0, ...input.lag.filter((l) => l.timeMs >= nowMs - RATE_SPAN_MS).map((l) => l.seconds));
    const peak = Math.max(
      demand,
      ...produceRateSeries(input.samples, input.lag, nowMs, this.o.peakWindowSeconds * 1000, TREND_STEP_MS).map((p) => p.rate),
    );
    const downTarget = candidates.find((n) => rateAt(n, this.o.targetUtilization) >= peak) ?? current;
    inputs.peakDemand = round(peak);
    inputs.downTarget = downTarget;
    if (downTarget >= current || trend > 0 || lagSeconds > slo / 2) {
      this.downSinceMs = undefined;
      return hold('capacity fits demand');
    }
    // Price the restart: the pause (plus an abandoned batch) adds to the lag, and the smaller
    // group must drain the records that piled up with its spare capacity, soon.
    const pause = this.restart.pauseSeconds;
    const spare = rateAt(downTarget, 1) - peak;
    const drainSeconds = spare > 0 ? (peak * (pause + triggerSeconds)) / spare : Number.POSITIVE_INFINITY;
    const worstLag = lagSeconds + pause + triggerSeconds;
    const saving = (current - downTarget) * this.o.peakWindowSeconds;
    const cost = downTarget * (pause + triggerSeconds);
    inputs.worstLagAfterDown = round(worstLag, 1);
    inputs.drainSeconds = round(drainSeconds);
    if (worstLag > DOWN_LAG_BUDGET * slo || drainSeconds > CATCH_UP_SLO_PERIODS * slo || saving < 2 * cost) {
      this.downSinceMs = undefined;
      return hold('scale-down not worth its restart');
    }
    this.downSinceMs ??= nowMs;
    if (nowMs - this.downSinceMs < this.o.downHoldSeconds * 1000) return hold('scale-down pending hold time');
    if (this.reversalBlocked(nowMs, -1, demand)) return hold('scale-down held: would reverse the last action');
    this.downSinceMs = undefined;
    return this.act(nowMs, current, downTarget, demand, inputs, undefined, 'demand well below capacity');
  }

  private act(
    nowMs: number,
    current: number,
    target: number,
    demand: number,
    inputs: DecisionInputs,
    rateLimit: number | undefined,
    why: string,
  ): ScalingDecision {
    const direction = target > current ? 1 : -1;
    this.lastAction = { timeMs: nowMs, direction, demand };
    return { instances: target, rateLimit, reason: `${why}: ${current} -> ${target}`, inputs };
  }

  /** Reversing within the guard window is allowed only when demand moved enough since. */
  private reversalBlocked(nowMs: number, direction: 1 | -1, demand: number): boolean {
    const last = this.lastAction;
    if (!last || last.direction === direction) return false;
    if (nowMs - last.timeMs > this.o.reversalGuardSeconds * 1000) return false;
    return Math.abs(demand - last.demand) < this.o.reversalRateChange * Math.max(last.demand, 1);
  }

  /**
   * Upward demand trend (records/s per s), trusted only when it is a ramp: the older and the newer
   * half of the recent past both rise, the whole fit is well clear of noise, and it adds a
   * noticeable share of demand. A step rises in one half only and is handled as a level.
   */
  private trend(input: ScalingInput, nowMs: number): number {
    const points = produceRateSeries(input.samples, input.lag, nowMs, TREND_SPAN_MS, TREND_STEP_MS).map((p) => ({
      x: p.timeMs / 1000,
      y: p.rate,
    }));
    if (points.length < 6) return 0;
    const half = Math.floor(points.length / 2);
    const rise = Math.min(slope(points.slice(0, half)), slope(points.slice(half)));
    const whole = linearFit(points);
    const level = points[points.length - 1]?.y ?? 0;
    const significant =
      whole.slope > TREND_T_STAT * whole.slopeError && rise * (TREND_SPAN_MS / 1000) >= TREND_SIGNIFICANCE * level;
    return rise > 0 && significant ? Math.min(rise, whole.slope) : 0;
  }
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
