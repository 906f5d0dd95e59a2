// Traffic profiles for the autoscaling simulator: a piecewise-linear input rate plus the query's
// partitions, per-instance behaviour, trigger, lag objective and noise.
import type { EngineModel } from './engine-group';

export interface RatePoint {
  /** Seconds from the start of the run. */
  at: number;
  /** Records per second produced at that moment. */
  rate: number;
}

export interface InstanceSpec {
  /** Records per second one instance processes while busy. */
  capacity: number;
  /** From the scale request until a new instance can consume. */
  startupSeconds: number;
  /** Consumer-group rebalance: every instance stops consuming for this long. */
  rebalancePauseSeconds: number;
  minInstances: number;
  maxInstances: number;
  /** Fixed cost of every micro-batch (planning, commit); default 0.5 s. */
  batchOverheadSeconds?: number;
  /** Instances at the start; default: enough for the first rate at 75 % busy. */
  initialInstances?: number;
}

export interface NoiseSpec {
  seed: number;
  /** Per-batch capacity noise: each batch runs at capacity * U(1 - j, 1 + j). */
  capacityJitter: number;
  /** Per-instance capacity spread, drawn once per instance; default = capacityJitter. */
  instanceSkew?: number;
  /** Spread of partition weights (hot partitions); default 0.1. */
  partitionSkew?: number;
  /** Input rate noise, redrawn every 10 s; default 0.03. */
  inputJitter?: number;
}

/** Hot partitions that move: every `moveEverySeconds`, `count` other partitions get `factor` × weight. */
export interface HotPartitions {
  count: number;
  factor: number;
  moveEverySeconds: number;
}

/** What the engine does that no policy's model says (issue 19 §2); every field optional. */
export interface ModelSpec extends EngineModel {
  hotPartitions?: HotPartitions;
}

export interface Profile {
  name: string;
  durationSeconds: number;
  partitions: number;
  instance: InstanceSpec;
  triggerSeconds: number;
  slo: { maxLagSeconds: number };
  input: RatePoint[];
  noise: NoiseSpec;
  /** When "the step" happens, for actionsToConverge; default: the sharpest rise in `input`. */
  stepAt?: number;
  /** Model mismatches; absent = the ideal engine the shipped profiles use. */
  model?: ModelSpec;
}

/** Validates a parsed JSON value as a profile, with messages that point at the bad field. */
export function parseProfile(value: unknown): Profile {
  const obj = record(value, 'profile');
  const instance = record(obj.instance, 'instance');
  const slo = record(obj.slo, 'slo');
  const noise = record(obj.noise, 'noise');
  if (!Array.isArray(obj.input) || obj.input.length === 0) throw new Error('input must be a non-empty array');
  const input = obj.input.map((p, i) => {
    const point = record(p, `input[${i}]`);
    return { at: num(point.at, `input[${i}].at`, 0), rate: num(point.rate, `input[${i}].rate`, 0) };
  });
  for (let i = 1; i < input.length; i++) {
    if ((input[i]?.at ?? 0) < (input[i - 1]?.at ?? 0)) throw new Error('input points must be sorted by "at"');
  }
  const profile: Profile = {
    name: str(obj.name, 'name'),
    durationSeconds: num(obj.durationSeconds, 'durationSeconds', 1),
    partitions: int(obj.partitions, 'partitions', 1),
    instance: {
      capacity: positive(instance.capacity, 'instance.capacity'),
      startupSeconds: num(instance.startupSeconds, 'instance.startupSeconds', 0),
      rebalancePauseSeconds: num(instance.rebalancePauseSeconds, 'instance.rebalancePauseSeconds', 0),
      minInstances: int(instance.minInstances, 'instance.minInstances', 1),
      maxInstances: int(instance.maxInstances, 'instance.maxInstances', 1),
      batchOverheadSeconds: optionalNum(instance.batchOverheadSeconds, 'instance.batchOverheadSeconds', 0),
      initialInstances: optionalInt(instance.initialInstances, 'instance.initialInstances', 1),
    },
    triggerSeconds: positive(obj.triggerSeconds, 'triggerSeconds'),
    slo: { maxLagSeconds: num(slo.maxLagSeconds, 'slo.maxLagSeconds', 0) },
    input,
    noise: {
      seed: int(noise.seed, 'noise.seed', 0),
      capacityJitter: num(noise.capacityJitter, 'noise.capacityJitter', 0),
      instanceSkew: optionalNum(noise.instanceSkew, 'noise.instanceSkew', 0),
      partitionSkew: optionalNum(noise.partitionSkew, 'noise.partitionSkew', 0),
      inputJitter: optionalNum(noise.inputJitter, 'noise.inputJitter', 0),
    },
    stepAt: optionalNum(obj.stepAt, 'stepAt', 0),
    ...(obj.model !== undefined && { model: parseModel(obj.model) }),
  };
  if (profile.instance.maxInstances < profile.instance.minInstances) {
    throw new Error('instance.maxInstances must be >= instance.minInstances');
  }
  for (const j of [profile.noise.capacityJitter, profile.noise.instanceSkew, profile.noise.partitionSkew]) {
    if (j !== undefined && j >= 1) throw new Error('noise spreads must be < 1');
  }
  return profile;
}

function parseModel(value: unknown): ModelSpec {
  const m = record(value, 'model');
  const known = [
    'rebalance',
    'cooperativePauseSeconds',
    'sublinearExponent',
    'batchCostExponent',
    'startupSigma',
    'coldFirstBatchSeconds',
    'startupPerAddedSeconds',
    'hotPartitions',
  ];
  for (const key of Object.keys(m))
    if (!known.includes(key)) throw new Error(`model.${key}: unknown field (known: ${known.join(', ')})`);
  if (m.rebalance !== undefined && m.rebalance !== 'eager' && m.rebalance !== 'cooperative')
    throw new Error('model.rebalance must be "eager" or "cooperative"');
  const model: ModelSpec = {
    ...(m.rebalance !== undefined && { rebalance: m.rebalance as 'eager' | 'cooperative' }),
    cooperativePauseSeconds: optionalNum(m.cooperativePauseSeconds, 'model.cooperativePauseSeconds', 0),
    sublinearExponent: optionalNum(m.sublinearExponent, 'model.sublinearExponent', 0),
    batchCostExponent: optionalNum(m.batchCostExponent, 'model.batchCostExponent', 1),
    startupSigma: optionalNum(m.startupSigma, 'model.startupSigma', 0),
    coldFirstBatchSeconds: optionalNum(m.coldFirstBatchSeconds, 'model.coldFirstBatchSeconds', 0),
    startupPerAddedSeconds: optionalNum(m.startupPerAddedSeconds, 'model.startupPerAddedSeconds', 0),
  };
  if ((model.sublinearExponent ?? 0) > 1) throw new Error('model.sublinearExponent must be <= 1');
  if ((model.batchCostExponent ?? 1) > 3) throw new Error('model.batchCostExponent must be <= 3');
  if ((model.startupSigma ?? 0) > 2) throw new Error('model.startupSigma must be <= 2');
  if ((model.coldFirstBatchSeconds ?? 0) > 3600)
    throw new Error('model.coldFirstBatchSeconds must be <= 3600');
  if ((model.startupPerAddedSeconds ?? 0) > 3600)
    throw new Error('model.startupPerAddedSeconds must be <= 3600');
  if (m.hotPartitions !== undefined) {
    const h = record(m.hotPartitions, 'model.hotPartitions');
    model.hotPartitions = {
      count: int(h.count, 'model.hotPartitions.count', 1),
      factor: num(h.factor, 'model.hotPartitions.factor', 1),
      moveEverySeconds: positive(h.moveEverySeconds, 'model.hotPartitions.moveEverySeconds'),
    };
  }
  return model;
}

/** Nominal input rate at `t` seconds: linear between points, flat before the first and after the last. */
export function nominalRateAt(input: readonly RatePoint[], t: number): number {
  const first = input[0];
  if (!first) return 0;
  if (t <= first.at) return first.rate;
  for (let i = 1; i < input.length; i++) {
    const a = input[i - 1] as RatePoint;
    const b = input[i] as RatePoint;
    if (t <= b.at) {
      if (b.at === a.at) return b.rate;
      return a.rate + ((b.rate - a.rate) * (t - a.at)) / (b.at - a.at);
    }
  }
  return (input[input.length - 1] as RatePoint).rate;
}

/**
 * The step that actionsToConverge measures from: `stepAt` if given, else the largest rise within
 * 60 s of input (an explicit step is two points at nearly the same time). Undefined when the input
 * never rises by at least 50 % that quickly.
 */
export function stepTime(profile: Profile): number | undefined {
  if (profile.stepAt !== undefined) return profile.stepAt;
  let best: { at: number; ratio: number } | undefined;
  for (let i = 1; i < profile.input.length; i++) {
    const a = profile.input[i - 1] as RatePoint;
    const b = profile.input[i] as RatePoint;
    if (b.at - a.at > 60 || a.rate <= 0) continue;
    const ratio = b.rate / a.rate;
    if (ratio >= 1.5 && (!best || ratio > best.ratio)) best = { at: a.at, ratio };
  }
  return best?.at;
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${what} must be a non-empty string`);
  return v;
}

function num(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new Error(`${what} must be a number >= ${min}`);
  return v;
}

function positive(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${what} must be a number > 0`);
  return v;
}

function int(v: unknown, what: string, min: number): number {
  const n = num(v, what, min);
  if (!Number.isInteger(n)) throw new Error(`${what} must be an integer`);
  return n;
}

function optionalNum(v: unknown, what: string, min: number): number | undefined {
  return v === undefined ? undefined : num(v, what, min);
}

function optionalInt(v: unknown, what: string, min: number): number | undefined {
  return v === undefined ? undefined : int(v, what, min);
}
