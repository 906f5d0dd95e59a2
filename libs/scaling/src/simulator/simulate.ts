// Deterministic autoscaling simulation: a profile's traffic into a topic, an engine group reading
// it, and a policy deciding every control tick, with optional PID backpressure. Same profile and
// seed, same result.
import { PidRateEstimator } from '../pid-rate-estimator';
import type { LagSample, ProgressSample, ScalingPolicy } from '../types';
import { effectiveInstances } from '../partition-alignment';
import { clampInstances } from '../policies/limits';
import { directionOf, scaleHoldMs } from '../scale-action';
import { EngineGroup, type BatchBoundUnits } from './engine-group';
import { KafkaTopic } from './kafka-topic';
import { countActionsToConverge, countOscillations, countReversals, type ScaleAction } from './outcome';
import { nominalRateAt, stepTime, type Profile } from './profile';
import { jitterFactor, seededRandom } from './prng';
import { ProgressAggregator } from './progress-aggregator';

export interface SimulationOptions {
  /**
   * Read-rate caps applied to the engines. true (default): Spark's PID estimator on aggregated
   * progress, combined with the policy's own cap (the lower wins). false: no cap at all (Spark's
   * default, and Flink's and KEDA's consumers, which read as fast as they process). 'policy': only
   * the policy's own cap, which is what the live scaling loop does with backpressure on (it sends
   * the policy's `rateLimit`; the control plane runs no separate PID estimator).
   */
  pid?: boolean | 'policy';
  tickSeconds?: number;
  /** How often the policy is asked (the HPA's sync period); default 15 s. */
  decisionIntervalSeconds?: number;
  /**
   * Where in the profile the decision ticks fall: the policy is asked at the seconds s with
   * (s − phase) a multiple of the interval. Default: drawn from the profile's seed (its own stream,
   * so traffic is unchanged), a whole second in [0, interval). A real loop's ticks start when its
   * process did, not when the traffic changes; with the phase fixed at 0 every shipped step began
   * one second after a tick, so every policy's next tick saw the whole step, and none paid for a
   * tick that straddles one.
   */
  decisionPhaseSeconds?: number;
  /** History handed to the policy; default 20 min (Flink's window plus margin). */
  windowSeconds?: number;
  /**
   * Engines bound each catch-up batch by their measured throughput, as the real engine does
   * (batch-bound.ts); default true. false: every batch reads all it may (the older model).
   * BatchBoundUnits: the bound of engines that run the profile on another clock and scale.
   */
  batchBound?: boolean | BatchBoundUnits;
  /** Record a timeline every this many seconds, for inspection (off when absent). */
  timelineEverySeconds?: number;
  /**
   * The Sluice control plane's hold between scale actions (scale-action.ts), for a policy Sluice's
   * loop runs; absent: none (a baseline stands for its own system, whose timing its policy holds).
   */
  gate?: { cooldownMs: number; upHoldMs: number };
}

/** The benchmark's JSON line. */
export interface SimulationSummary {
  policy: string;
  profile: string;
  sloViolationSeconds: number;
  instanceSeconds: number;
  scaleActions: number;
  oscillations: number;
  /** Reversals within 15 min while the measured input stayed within 10 % (see countReversals). */
  reversals: number;
  actionsToConverge: number | null;
  maxLagSeconds: number;
  maxBatchDurationSeconds: number;
  lostRecords: number;
}

export interface TimelinePoint {
  t: number;
  inputRate: number;
  instances: number;
  ready: number;
  lagSeconds: number;
  lagRecords: number;
  processedRecords: number;
  rateLimit: number | null;
}

export interface SimulationResult {
  summary: SimulationSummary;
  actions: ScaleAction[];
  producedRecords: number;
  processedRecords: number;
  backlogRecords: number;
  abandonedRecords: number;
  timeline: TimelinePoint[];
}

const INPUT_NOISE_BLOCK_SECONDS = 10;

export function simulate(
  profile: Profile,
  policy: ScalingPolicy,
  options: SimulationOptions = {},
): SimulationResult {
  const pidMode = options.pid ?? true;
  const pidEnabled = pidMode === true;
  const capsApplied = pidMode !== false;
  const dt = options.tickSeconds ?? 0.1;
  const decisionEvery = options.decisionIntervalSeconds ?? 15;
  const decisionPhase =
    options.decisionPhaseSeconds ??
    Math.floor(seededRandom(profile.noise.seed ^ 0x7f4a7c15)() * decisionEvery);
  if (!Number.isInteger(decisionPhase) || decisionPhase < 0 || decisionPhase >= decisionEvery)
    throw new RangeError(
      `decisionPhaseSeconds must be a whole second in [0, ${decisionEvery}), got ${decisionPhase}`,
    );
  const windowSeconds = options.windowSeconds ?? 1200;
  const { instance, noise } = profile;
  const limits = {
    minInstances: instance.minInstances,
    maxInstances: instance.maxInstances,
    partitions: profile.partitions,
  };

  // Independent streams: traffic and topology are identical whatever the policy does.
  const topologyRandom = seededRandom(noise.seed);
  const inputRandom = seededRandom(noise.seed ^ 0x5bd1e995);
  const engineRandom = seededRandom(noise.seed ^ 0x27d4eb2f);
  const partitionSkew = noise.partitionSkew ?? 0.1;
  const weights = Array.from({ length: profile.partitions }, () =>
    jitterFactor(topologyRandom, partitionSkew),
  );
  const topic = new KafkaTopic(weights, profile.durationSeconds);
  // Hot partitions move on their own seeded stream, so every policy sees the same traffic.
  const hot = profile.model?.hotPartitions;
  const hotRandom = seededRandom(noise.seed ^ 0x1b873593);
  let hotEpoch = -1;
  const moveHotPartitions = (now: number) => {
    if (!hot) return;
    const epoch = Math.floor(now / hot.moveEverySeconds);
    if (epoch === hotEpoch) return;
    hotEpoch = epoch;
    const next = [...weights];
    const chosen = new Set<number>();
    while (chosen.size < Math.min(hot.count, profile.partitions))
      chosen.add(Math.floor(hotRandom() * profile.partitions));
    for (const p of chosen) next[p] = (next[p] as number) * hot.factor;
    topic.setWeights(next);
  };
  const aggregator = new ProgressAggregator(profile.triggerSeconds);
  const group = new EngineGroup(
    {
      capacity: instance.capacity,
      startupSeconds: instance.startupSeconds,
      rebalancePauseSeconds: instance.rebalancePauseSeconds,
      batchOverheadSeconds: instance.batchOverheadSeconds ?? 0.5,
      triggerSeconds: profile.triggerSeconds,
      capacityJitter: noise.capacityJitter,
      instanceSkew: noise.instanceSkew ?? noise.capacityJitter,
      batchBound: options.batchBound ?? true,
      ...(profile.model && { model: profile.model }),
    },
    topic,
    engineRandom,
    aggregator,
  );
  const firstRate = nominalRateAt(profile.input, 0);
  let target = clampInstances(
    instance.initialInstances ?? Math.ceil(firstRate / (instance.capacity * 0.75)),
    limits,
  );
  group.bootstrap(target);

  const pid = pidEnabled
    ? new PidRateEstimator({ batchIntervalMs: profile.triggerSeconds * 1000 })
    : undefined;
  // Rate limits are query-wide but only right for the membership they were computed for: each
  // remembers its consumer count and is rescaled when the group changes (a shrunk group must not
  // inherit a rate that sized batches for more instances).
  let pidRate: { rate: number; consumers: number } | undefined;
  let policyRate: { rate: number; consumers: number } | undefined;
  const forMembership = (limit: { rate: number; consumers: number } | undefined, consumers: number) =>
    limit === undefined
      ? Infinity
      : (limit.rate * effectiveInstances(profile.partitions, consumers)) /
        effectiveInstances(profile.partitions, limit.consumers);
  const samples: ProgressSample[] = [];
  const lag: LagSample[] = [];
  const lagBySecond = new Float64Array(Math.ceil(profile.durationSeconds) + 1);
  const producedBySecond = new Float64Array(Math.ceil(profile.durationSeconds) + 1);
  const actions: ScaleAction[] = [];
  const timeline: TimelinePoint[] = [];
  let inputNoise = 1;
  let noiseBlock = -1;
  let instanceSeconds = 0;
  let sloViolationSeconds = 0;
  let maxLagSeconds = 0;
  let sampleStart = 0;
  let lagStart = 0;
  let lastScale: { atMs: number } | undefined;

  topic.recordSecond(0);
  lag.push({ timeMs: 0, records: 0, seconds: 0, endOffsets: 0 });
  const ticks = Math.round(profile.durationSeconds / dt);
  for (let tick = 1; tick <= ticks; tick++) {
    const now = tick * dt;
    const block = Math.floor((now - dt) / INPUT_NOISE_BLOCK_SECONDS + 1e-9);
    if (block !== noiseBlock) {
      noiseBlock = block;
      inputNoise = jitterFactor(inputRandom, noise.inputJitter ?? 0.03);
    }
    moveHotPartitions(now - dt);
    topic.produce(nominalRateAt(profile.input, now - dt / 2) * inputNoise, dt);

    const consumers = group.readyCount;
    const rateLimit = capsApplied
      ? Math.min(forMembership(pidRate, consumers), forMembership(policyRate, consumers))
      : Infinity;
    group.step(now, rateLimit);
    instanceSeconds += group.size * dt;
    for (const sample of aggregator.drain(now)) {
      samples.push(sample);
      const estimate = pid?.compute(
        sample.timeMs,
        sample.numInputRows,
        sample.batchDurationMs,
        sample.schedulingDelayMs ?? 0,
      );
      if (estimate !== undefined)
        pidRate = { rate: estimate, consumers: Math.max(1, sample.instances ?? consumers) };
    }

    const second = Math.round(now);
    if (Math.abs(now - second) < dt / 2) {
      topic.recordSecond(second);
      const lagSeconds = topic.timeLagSeconds();
      lagBySecond[second] = lagSeconds;
      producedBySecond[second] = topic.producedTotal;
      maxLagSeconds = Math.max(maxLagSeconds, lagSeconds);
      if (lagSeconds > profile.slo.maxLagSeconds) sloViolationSeconds++;
      lag.push({
        timeMs: second * 1000,
        records: topic.lagRecords(),
        seconds: lagSeconds,
        endOffsets: topic.producedTotal,
        partitionEndOffsets: Array.from(topic.produced),
      });

      if ((second - decisionPhase) % decisionEvery === 0) {
        const nowMs = second * 1000;
        while ((samples[sampleStart]?.timeMs ?? Infinity) < nowMs - windowSeconds * 1000) sampleStart++;
        while ((lag[lagStart]?.timeMs ?? Infinity) < nowMs - windowSeconds * 1000) lagStart++;
        const decision = policy.decide({
          nowMs,
          samples: samples.slice(sampleStart),
          lag: lag.slice(lagStart),
          currentInstances: target,
          readyInstances: group.readyCount,
          limits,
          sloMaxLagSeconds: profile.slo.maxLagSeconds,
          // The simulated eager group places partitions by index (engine-group.ts assign); the
          // cooperative one is sticky: its placement depends on history.
          assignor: (profile.model?.rebalance ?? 'eager') === 'eager' ? 'range' : 'other',
        });
        policyRate =
          decision.rateLimit === undefined
            ? undefined
            : { rate: decision.rateLimit, consumers: Math.max(1, group.readyCount) };
        const next = clampInstances(decision.instances, limits);
        const held =
          options.gate !== undefined &&
          lastScale !== undefined &&
          nowMs - lastScale.atMs < scaleHoldMs(directionOf(target, next), options.gate);
        if (next !== target && !held) {
          lastScale = { atMs: nowMs };
          const back = Math.max(0, second - 60);
          const inputRate =
            (topic.producedTotal - (producedBySecond[back] ?? 0)) / Math.max(1, second - back);
          actions.push({ timeSeconds: second, from: target, to: next, reason: decision.reason, inputRate });
          target = next;
          group.scaleTo(target, now, policy.restartMode === 'full');
        }
      }
      if (options.timelineEverySeconds && second % options.timelineEverySeconds === 0) {
        timeline.push({
          t: second,
          inputRate: nominalRateAt(profile.input, second),
          instances: group.size,
          ready: group.readyCount,
          lagSeconds,
          lagRecords: topic.lagRecords(),
          processedRecords: aggregator.processedRows,
          rateLimit: Number.isFinite(rateLimit) ? Math.round(rateLimit) : null,
        });
      }
    }
  }

  const summary: SimulationSummary = {
    policy: policy.name,
    profile: profile.name,
    sloViolationSeconds,
    instanceSeconds: Math.round(instanceSeconds),
    scaleActions: actions.length,
    oscillations: countOscillations(actions),
    reversals: countReversals(actions, inputRateBySecond(producedBySecond)),
    actionsToConverge: countActionsToConverge(
      actions,
      lagBySecond,
      profile.slo.maxLagSeconds,
      profile.input,
      stepTime(profile),
      profile.durationSeconds,
    ),
    maxLagSeconds: round2(maxLagSeconds),
    maxBatchDurationSeconds: round2(aggregator.maxBatchDurationSeconds),
    // Conservation, from three independent counts: what producers wrote, what completed batches
    // reported, and what the offsets say is still waiting in the topic.
    lostRecords: topic.producedTotal - aggregator.processedRows - topic.lagRecords(),
  };
  return {
    summary,
    actions,
    producedRecords: topic.producedTotal,
    processedRecords: aggregator.processedRows,
    backlogRecords: topic.lagRecords(),
    abandonedRecords: group.abandonedRows,
    timeline,
  };
}

/** Produce rate over the 60 s before each second (from the start, before 60 s). */
function inputRateBySecond(producedBySecond: Float64Array): Float64Array {
  const out = new Float64Array(producedBySecond.length);
  for (let s = 1; s < producedBySecond.length; s++) {
    const back = Math.max(0, s - 60);
    out[s] = ((producedBySecond[s] ?? 0) - (producedBySecond[back] ?? 0)) / (s - back);
  }
  out[0] = out[1] ?? 0;
  return out;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
