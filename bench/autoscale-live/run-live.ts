// The live autoscaling run behind `bench:autoscale:live` and `bench:autoscale -- --live`: the real
// stack, the real control plane (child process) with its scaling loop, real engines (optionally
// CPU-limited through the query's cpuLimit), and a load generator following the profile compressed
// in time. Returns the simulator's summary keys, with times converted back to profile seconds
// (live seconds × speedup).
//  - profile times divide by the speedup; so do the trigger, the loop's interval, cooldown (and
//    the shorter wait before a scale-up) and window, and the sluice policy's time
//    settings;
//  - rates are the profile's times the rate scale. With a CPU limit and no rate scale given, one
//    limited engine's capacity is measured first (records ÷ drain time of a sustained backlog
//    drained by one instance of a separate query, after a warm-up: calibration.ts), and the scale maps the profile's instance capacity onto it, so the live run needs as
//    many instances as the simulated one; that query is then scaled 1 → 2 and 1 → the most
//    instances a few times each to measure a scale-out's cost before the run
//    (scale-out-calibration.ts);
//  - lostRecords = produced − records in the sink topic, after the generator stopped and the lag
//    drained (the SQL is a projection, one output row per input row; negative = duplicates).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKafka, ensureTopics, parseBrokers, startGenerator } from '@sluice/kafka';
import { Pool } from 'pg';
import {
  countActionsToConverge,
  countOscillations,
  countReversals,
  nominalRateAt,
  SCALING_INTERVAL_DEFAULT_MS,
  stepTime,
  type PolicyName,
  type Profile,
  type ScaleAction,
  type SimulationSummary,
} from '@sluice/scaling';
import { applyMigrations } from '../../prisma/migrate';
import { loadStackConfig, stackEnv } from '../../scripts/stack/config';
import { stackUp } from '../../scripts/stack/stack';
import { chargedRounds, fitBatchCost, type BatchCostFit } from './batch-cost';
import { calibrateCapacity, type Calibration } from './calibration';
import { calibrateScaleOut, type ScaleOutCalibration } from './scale-out-calibration';
import { scaleOutsOnline, type LiveBatch, type ScaleOutOnline } from './startup';
import { formatSpans, violationSpans, type ViolationSpan } from './violation-spans';
import { tickPhase, type TickPhase } from './tick-phase';
import { liveQuerySpec } from './live-query';

const ROOT = path.resolve(__dirname, '..', '..');

export interface LiveOptions {
  profile: Profile;
  policy: PolicyName;
  speedup: number;
  /** Live rate = profile rate × this; measured from the CPU limit when omitted and a limit is set. */
  rateScale?: number;
  maxInstances?: number;
  partitions?: number;
  port: number;
  drainTimeoutMs: number;
  /** Cores per engine instance (the query's cpuLimit); unlimited when omitted. */
  cpuLimit?: number;
}

export interface LiveResult {
  summary: SimulationSummary;
  produced: number;
  sinkRecords: number;
  /** False when the lag did not reach 0 in the drain timeout: lostRecords then counts the backlog. */
  drained: boolean;
  rateScale: number;
  partitions: number;
  minInstances: number;
  maxInstances: number;
  /** Records/s one (limited) engine drained in the calibration, live; null when not measured. */
  measuredCapacity: number | null;
  /** How the capacity was measured (warm-up, sustained backlog, drain time); null when not. */
  calibration: Calibration | null;
  /** How each instance's CPU limit was applied (the instance view), or null without a limit. */
  cpuLimitApplied: unknown;
  /** Each scale-out's time until its instances all read rows (startup.ts), in profile seconds. */
  scaleOutsOnline: ScaleOutOnline[];
  /** The calibration query's 1 → 2 and 1 → max trials before the run (scale-out-calibration.ts); null: none. */
  scaleOutCalibration: ScaleOutCalibration | null;
  /**
   * A batch-cost line fitted on every round of the calibration query (its drains, trigger rounds,
   * and the scale-out trials with their steady load) as the live loop charges them
   * (batch-cost.ts `chargedRounds`); null when not measured or not identifiable.
   */
  chargedLine: BatchCostFit | null;
  /** Where the lag was over the objective, in profile seconds. */
  violations: ViolationSpan[];
  /** The first instance's warm-up before the profile's clock started (live ms, lag at its end). */
  warmup: Warmup | null;
  /** The engines' processing-time trigger, live ms (the profile's ÷ speedup, at least 100). */
  triggerMs: number;
  /** Where the scaling loop's ticks fell against the profile's clock (tick-phase.ts); null: none seen. */
  tickPhase: TickPhase | null;
  /** The loop's scale actions within the profile (profile seconds, input rate in profile units). */
  actions: ScaleAction[];
  /**
   * The run's raw record, kept so that a model can be judged against it after the stack is gone
   * (the query, and with it its progress events, is deleted at the end): every batch from the
   * profile's start (live ms) and the bench's one-a-second samples; and the calibration query's
   * batches (live ms from its start).
   */
  trace: { batches: LiveBatch[]; samples: LiveSample[]; calibrationBatches: LiveBatch[] };
  loadBefore: string;
  loadAfter: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Live time the first instance reads at the profile's first rate before the profile's clock
 * starts. A simulated instance is warm at t = 0; a real engine's first batches are cold (module
 * loading, JIT, connections, the first fetches) and at 0.1 CPU each costs up to seconds, which
 * the 10× clock turns into profile minutes: 20–30 of the step's violation seconds came from
 * them (BENCHMARKS 2026-12-06). Instances the policy adds still start cold: their start-up is
 * measured (startup.ts) and priced in the "+ live start-up" simulation.
 */
const WARMUP_MS = 15_000;
/** Longest warm-up: the engine must keep up with the first rate by then, or the run goes on anyway. */
const WARMUP_MAX_MS = 60_000;

interface Warmup {
  liveMs: number;
  lagSeconds: number;
}

/** Waits WARMUP_MS, then until the lag is within a tenth of the objective (at most WARMUP_MAX_MS). */
async function warmUp(
  lagOf: () => Promise<Lag>,
  sloLiveSeconds: number,
  log: (m: string) => void,
): Promise<Warmup> {
  const start = Date.now();
  log(`warming the first instance up for ${WARMUP_MS / 1000} s at the profile's first rate (observe mode)`);
  await sleep(WARMUP_MS);
  for (;;) {
    const lagSeconds = (await lagOf()).maxSecondsBehind ?? 0;
    const liveMs = Date.now() - start;
    if (lagSeconds <= sloLiveSeconds / 10 || liveMs >= WARMUP_MAX_MS) return { liveMs, lagSeconds };
    await sleep(500);
  }
}

/** Real engines on a small machine: live peak ≤ this by default. */
const DEFAULT_PEAK_RATE = 3000;
/** Default cap on live instances (each engine is a process on this machine). */
const DEFAULT_MAX_INSTANCES = 4;
/**
 * A database of its own: other control planes (dev servers, integration tests) share the stack's
 * `sluice` database and would reconcile this query's instances too.
 */
const BENCH_DATABASE = 'sluice_bench_live';

async function ensureDatabase(url: string, name: string): Promise<string> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const pool = new Pool({ connectionString: admin.toString() });
  try {
    const found = await pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await pool.query(`CREATE DATABASE "${name}"`);
  } finally {
    await pool.end();
  }
  const own = new URL(url);
  own.pathname = `/${name}`;
  return own.toString();
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

interface Detail {
  phase: string;
  desired: { instances: number };
  instances: { status: string; cpuLimit?: unknown }[];
  lastProgress: {
    batchId?: number;
    batchDuration?: number;
    numInputRows?: number;
    processedRowsPerSecond?: number;
  } | null;
}
interface Lag {
  totalRecordsBehind: number;
  maxSecondsBehind: number | null;
}
interface ProgressView {
  timestamp: string;
  batchId: number;
  batchDuration?: number;
  numInputRows: number;
  sluice?: {
    instance?: string;
    rateLimit?: number | null;
    processRowBatches?: number;
    roundCpuMs?: number;
    roundWallMs?: number;
    outsideTriggerMs?: number;
  };
}
interface ScalingEventView {
  at: string;
  fromInstances: number;
  toInstances: number;
  reason: string;
  inputs: { scaled?: boolean } | null;
  acted: boolean;
}
/** One live second of the run as the bench sampled it (the control plane's view). */
export interface LiveSample {
  liveMs: number;
  produced: number;
  desired: number;
  running: number;
  lagSeconds: number;
  lagRecords: number;
  batchDurationMs: number | null;
}

/** The query's batches from `sinceMs` on (every instance), oldest first, paged through the API. */
async function batchesSince(
  call: <T>(method: string, url: string) => Promise<{ status: number; body: T }>,
  qid: string,
  sinceMs: number,
): Promise<LiveBatch[]> {
  const seen = new Map<string, LiveBatch>();
  // `since` is exclusive: step back 1 ms each page and drop the repeats (instance and trigger
  // start). Not the batch id: a trigger whose batches all failed reports the last committed id
  // again, and keyed by it that report replaced the committed batch's (every live step lost the
  // old owner's batch that ran while the scale-out's new instances started).
  let cursor = sinceMs - 1;
  for (let page = 0; page < 200; page++) {
    const r = await call<ProgressView[]>(
      'GET',
      `/api/v1/queries/${qid}/progress?since=${new Date(cursor).toISOString()}&limit=1000`,
    );
    if (r.status !== 200) throw new Error(`progress → ${r.status}`);
    for (const e of r.body) {
      const instance = e.sluice?.instance ?? '?';
      const at = Date.parse(e.timestamp);
      seen.set(`${instance}/${e.timestamp}`, {
        liveMs: at - sinceMs,
        durationMs: e.batchDuration ?? 0,
        instance,
        rows: e.numInputRows,
        rateLimit: e.sluice?.rateLimit ?? null,
        processRowBatches: e.sluice?.processRowBatches ?? null,
        roundCpuMs: e.sluice?.roundCpuMs ?? null,
        roundWallMs: e.sluice?.roundWallMs ?? null,
        outsideMs: e.sluice?.outsideTriggerMs ?? null,
      });
    }
    const last = r.body.length ? Date.parse(r.body[r.body.length - 1]!.timestamp) : cursor;
    if (r.body.length < 1000 || last - 1 <= cursor) break;
    cursor = last - 1;
  }
  return [...seen.values()];
}

/** Records a read_committed consumer sees in `topic`, once it has been quiet for 5 s. */
async function countCommitted(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  tag: string,
): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `bench-autoscale-live-count-${tag}`,
    maxBytes: 10 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let count = 0;
    let changedAt = Date.now();
    await consumer.run({
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        changedAt = Date.now();
      },
    });
    const start = Date.now();
    while (Date.now() - changedAt < 5000 && Date.now() - start < 180_000) await sleep(500);
    return count;
  } finally {
    await consumer.disconnect();
  }
}

export async function runLive(o: LiveOptions, log: (m: string) => void): Promise<LiveResult> {
  const { profile, policy, speedup, port, drainTimeoutMs } = o;
  const loadBefore = loadAverage();
  const peak = Math.max(...profile.input.map((p) => p.rate));
  let rateScale = o.rateScale ?? Math.min(1, DEFAULT_PEAK_RATE / Math.max(peak, 1));
  let measuredCapacity: number | null = null;
  let calibration: Calibration | null = null;
  let cpuLimitApplied: unknown = null;
  let warmup: Warmup | null = null;
  let scaleOutCalibration: ScaleOutCalibration | null = null;
  let chargedLine: BatchCostFit | null = null;
  let calibrationBatches: LiveBatch[] = [];
  const partitions = o.partitions ?? profile.partitions;
  const maxInstances = Math.min(
    o.maxInstances ?? DEFAULT_MAX_INSTANCES,
    profile.instance.maxInstances,
    partitions,
  );
  const minInstances = Math.min(profile.instance.minInstances, maxInstances);
  const triggerMs = Math.max(100, Math.round((profile.triggerSeconds * 1000) / speedup));
  const liveDurationMs = (profile.durationSeconds * 1000) / speedup;
  const sloLive = profile.slo.maxLagSeconds / speedup;

  const config = loadStackConfig();
  await stackUp(log, config);
  const env = { ...stackEnv(config) };
  env.DATABASE_URL = await ensureDatabase(env.DATABASE_URL, BENCH_DATABASE);
  await applyMigrations(env.DATABASE_URL);
  const token = `slc_bench_${randomBytes(16).toString('hex')}`;
  const home = path.join(config.home, 'bench-autoscale-live');
  fs.mkdirSync(home, { recursive: true });
  const scaled = (s: number) => s / speedup;
  // The sluice policy's own clocks are in seconds; compress them like the profile.
  const policySettings = {
    sluice: {
      lookaheadSeconds: scaled(180),
      peakWindowSeconds: scaled(300),
      downHoldSeconds: scaled(120),
      reversalGuardSeconds: scaled(600),
      startupSecondsPrior: scaled(60),
      rebalancePauseSecondsPrior: scaled(15),
      defaultSloSeconds: sloLive,
      // Its built-in spans too (demand minute, trend, slices …): before, the live policy looked at
      // ten times the stretch of the profile the simulated one did, so it never saw a ramp.
      timeScale: 1 / speedup,
    },
  };
  // The control plane's default interval on the profile's clock (10 profile s), bounded below.
  const loopIntervalMs = Math.max(200, Math.round(SCALING_INTERVAL_DEFAULT_MS / speedup));
  const cp = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      SLUICE_API_PORT: String(port),
      SLUICE_BOOTSTRAP_TOKEN: token,
      LOG_LEVEL: 'warn',
      SLUICE_HOME: home,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      SLUICE_SCALING_INTERVAL_MS: String(loopIntervalMs),
      SLUICE_SCALING_COOLDOWN_MS: String(Math.round(60_000 / speedup)),
      SLUICE_SCALING_UP_HOLD_MS: String(Math.round(15_000 / speedup)),
      SLUICE_SCALING_WINDOW_MS: String(Math.max(10_000, Math.round(600_000 / speedup))),
      SLUICE_SCALING_POLICY_SETTINGS: JSON.stringify(policySettings),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(
    method: string,
    url: string,
    body?: string,
    type = 'application/json',
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${base}${url}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': type }) },
      body,
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const brokers = parseBrokers(env.KAFKA_BROKERS);
  const kafka = createKafka({ brokers, clientId: 'bench-autoscale-live' });
  const admin = kafka.admin();
  let id: string | undefined;
  let calibrationId: string | undefined;
  try {
    let ready = false;
    for (let i = 0; i < 240 && !ready; i++) {
      ready = await fetch(`${base}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await sleep(500);
    }
    if (!ready) throw new Error('control plane not ready within 120 s');

    /** Until the operation succeeded; throws when it failed or outlasted `timeoutMs`. */
    const operationDone = async (opId: string, timeoutMs: number): Promise<void> => {
      for (const until = Date.now() + timeoutMs; Date.now() < until;) {
        const s = await call<{ state: string; type?: string }>('GET', `/api/v1/operations/${opId}`);
        if (s.body.state === 'SUCCEEDED') return;
        if (s.body.state === 'FAILED') throw new Error(`operation ${s.body.type ?? opId} failed`);
        await sleep(250);
      }
      throw new Error(`operation ${opId} not done within ${timeoutMs / 1000} s`);
    };

    const tag = randomBytes(3).toString('hex');
    await admin.connect();
    /** A projection query on fresh topics, with the run's scaling settings and CPU limit. */
    const startQuery = async (name: string, mode: 'auto' | 'observe', maxI: number) => {
      const source = `bench-live-clicks-${name}`;
      const sink = `bench-live-out-${name}`;
      await ensureTopics(admin, [
        { topic: source, numPartitions: partitions },
        { topic: sink, numPartitions: 1 },
      ]);
      const spec = liveQuerySpec({ name: `bench-autoscale-live-${name}`, source, sink, triggerMs });
      const created = await call<{ id: string }>('POST', '/api/v1/queries', spec, 'application/yaml');
      if (created.status !== 201)
        throw new Error(`create query → ${created.status} ${JSON.stringify(created.body)}`);
      const qid = created.body.id;
      const set = await call(
        'POST',
        `/api/v1/queries/${qid}/scaling`,
        JSON.stringify({
          policy,
          mode,
          minInstances: Math.min(minInstances, maxI),
          maxInstances: maxI,
          ...(o.cpuLimit !== undefined ? { cpuLimit: o.cpuLimit } : {}),
        }),
      );
      if (set.status !== 200) throw new Error(`scaling settings → ${set.status} ${JSON.stringify(set.body)}`);
      const detail = async () => (await call<Detail>('GET', `/api/v1/queries/${qid}`)).body;
      const lagOf = async () => (await call<Lag>('GET', `/api/v1/queries/${qid}/lag`)).body;
      const startWait = Date.now();
      // Running, and (with a limit) the instance view says how the limit was applied.
      for (;;) {
        const d = await detail();
        if (d.phase === 'RUNNING' && (o.cpuLimit === undefined || d.instances.some((i) => i.cpuLimit))) {
          if (o.cpuLimit !== undefined) cpuLimitApplied = d.instances.find((i) => i.cpuLimit)?.cpuLimit;
          break;
        }
        if (Date.now() - startWait > 180_000) throw new Error(`query ${name} not RUNNING within 180 s`);
        await sleep(500);
      }
      log(`query ${name} running after ${((Date.now() - startWait) / 1000).toFixed(1)} s`);
      return { qid, source, sink, detail, lagOf };
    };

    if (o.cpuLimit !== undefined && o.rateScale === undefined) {
      // One limited engine drains a sustained backlog; records ÷ drain time is the live instance
      // capacity (calibration.ts says why not the batches' own rates).
      // Observed, never scaled by the loop; as many instances as the run for the scale-out trials.
      const c = await startQuery(`${tag}-calib`, 'observe', maxInstances);
      calibrationId = c.qid;
      const calibrationStart = Date.now();
      /** Produces `records` into the calibration query's source as fast as the generator goes. */
      const atOnce = (records: number) =>
        startGenerator({ brokers, topic: c.source, partitions, rate: 1_000_000, limit: records });
      const cal = await calibrateCapacity(
        {
          produce: async (records) => {
            const gen = await atOnce(records);
            return { produced: () => gen.produced, stop: () => gen.stop() };
          },
          lag: async () => (await c.lagOf()).totalRecordsBehind,
          setRateLimit: async (records) => {
            const op = await call<{ id: string }>(
              'POST',
              `/api/v1/queries/${c.qid}/rate-limit`,
              JSON.stringify({ maxOffsetsPerTrigger: records }),
            );
            if (op.status >= 300) throw new Error(`rate limit → ${op.status} ${JSON.stringify(op.body)}`);
            await operationDone(op.body.id, 60_000);
          },
          progress: async () => (await c.detail()).lastProgress,
        },
        (m) => log(`calibration (one engine at ${o.cpuLimit} CPU): ${m}`),
        triggerMs / 1000,
      );
      measuredCapacity = cal.capacity;
      calibration = cal;
      rateScale = measuredCapacity / profile.instance.capacity;
      log(
        `one limited engine drained ${Math.round(measuredCapacity)} records/s with trigger-sized batches ` +
          `(${Math.round(cal.sustainedCapacity)}/s catch-up); rates × ${rateScale.toFixed(3)} ` +
          `(profile instance capacity ${profile.instance.capacity}/s)`,
      );
      let lastOp: string | null = null;
      scaleOutCalibration = await calibrateScaleOut(
        {
          startLoad: async (rate) => {
            const gen = await startGenerator({ brokers, topic: c.source, partitions, rate });
            return { stop: () => gen.stop() };
          },
          produceBurst: async (records) => {
            const gen = await atOnce(records);
            for (const until = Date.now() + 60_000; gen.produced < records && Date.now() < until;)
              await sleep(50);
            await gen.stop();
          },
          scale: async (instances) => {
            const op = await call<{ id: string }>(
              'POST',
              `/api/v1/queries/${c.qid}/scale`,
              JSON.stringify({ instances }),
            );
            if (op.status !== 202) throw new Error(`scale → ${op.status} ${JSON.stringify(op.body)}`);
            lastOp = op.body.id;
          },
          waitInstances: async (instances, timeoutMs) => {
            const start = Date.now();
            if (lastOp !== null) await operationDone(lastOp, timeoutMs);
            while ((await c.detail()).instances.filter((i) => i.status === 'RUNNING').length !== instances) {
              if (Date.now() - start > timeoutMs)
                throw new Error(`calibration query: not ${instances} running within ${timeoutMs / 1000} s`);
              await sleep(250);
            }
          },
          batchesSince: (sinceMs) => batchesSince(call, c.qid, sinceMs),
        },
        { capacity: measuredCapacity, speedup, partitions, maxInstances },
        (m) => log(`calibration (scale-out): ${m}`),
      );
      calibrationBatches = (await batchesSince(call, c.qid, calibrationStart)).sort(
        (a, b) => a.liveMs - b.liveMs,
      );
      chargedLine = fitBatchCost(chargedRounds(calibrationBatches, o.cpuLimit));
      log(
        chargedLine
          ? `calibration: charged line over ${chargedLine.batches} rounds of ${chargedLine.minRows}–${chargedLine.maxRows} rows: ${chargedLine.overheadSeconds.toFixed(3)} s + rows ÷ ${Math.round(chargedLine.recordsPerSecond)}/s`
          : 'calibration: no charged line (rounds not identifiable)',
      );
      await call('DELETE', `/api/v1/queries/${c.qid}`);
    }
    log(
      `${profile.name}: ${liveDurationMs / 1000} s live (speedup ${speedup}), rates × ${rateScale.toFixed(3)} (peak ${Math.round(peak * rateScale)}/s), ` +
        `${partitions} partitions, instances ${minInstances}..${maxInstances}, trigger ${triggerMs} ms, policy ${policy}` +
        (o.cpuLimit !== undefined ? `, ${o.cpuLimit} CPU per engine` : ''),
    );
    // Observed, not scaled, until the warm-up below is over.
    const q = await startQuery(tag, 'observe', maxInstances);
    id = q.qid;
    const { qid, source, sink, detail, lagOf } = q;

    const rateAt = (liveMs: number) => nominalRateAt(profile.input, (liveMs / 1000) * speedup) * rateScale;
    const gen = await startGenerator({ brokers, topic: source, partitions, rate: rateAt(0) });
    // The profile's clock: the first rate holds until the warm-up is over.
    let t0 = Number.POSITIVE_INFINITY;
    const pacer = setInterval(() => gen.setRate(rateAt(Math.max(0, Date.now() - t0))), 100);
    const samples: LiveSample[] = [];
    let producedAtStart = 0;
    try {
      warmup = await warmUp(lagOf, sloLive, log);
      const set = await call('POST', `/api/v1/queries/${qid}/scaling`, JSON.stringify({ mode: 'auto' }));
      if (set.status !== 200)
        throw new Error(`scaling mode auto → ${set.status} ${JSON.stringify(set.body)}`);
      t0 = Date.now();
      producedAtStart = gen.produced;
      log(
        `warm: ${(warmup.liveMs / 1000).toFixed(1)} s at the profile's first rate, lag ${warmup.lagSeconds.toFixed(2)} s; ` +
          'the profile starts, scaling in auto mode',
      );
      for (let k = 1; Date.now() - t0 < liveDurationMs; k++) {
        await sleep(Math.max(0, t0 + k * 1000 - Date.now()));
        const [d, l] = await Promise.all([detail(), lagOf()]);
        const s: LiveSample = {
          liveMs: Date.now() - t0,
          produced: gen.produced,
          desired: d.desired.instances,
          running: d.instances.filter((i) => i.status === 'RUNNING').length,
          lagSeconds: l.maxSecondsBehind ?? 0,
          lagRecords: l.totalRecordsBehind,
          batchDurationMs: d.lastProgress?.batchDuration ?? null,
        };
        samples.push(s);
        if (k % 10 === 0) {
          log(
            `t=${((s.liveMs / 1000) * speedup).toFixed(0)} s (profile) rate ${Math.round(rateAt(s.liveMs))}/s instances ${s.desired} (running ${s.running}) ` +
              `lag ${s.lagRecords} rec / ${s.lagSeconds.toFixed(1)} s`,
          );
        }
      }
    } finally {
      clearInterval(pacer);
      await gen.stop();
    }
    const produced = gen.produced;
    log(`load done (${produced} records); waiting for the lag to drain`);
    const drainStart = Date.now();
    let drained = false;
    while (Date.now() - drainStart < drainTimeoutMs) {
      const l = await lagOf();
      if (l.totalRecordsBehind === 0) {
        drained = true;
        break;
      }
      await sleep(1000);
    }
    if (!drained) log(`lag did not reach 0 within ${drainTimeoutMs / 1000} s`);
    // The last batch's output may still be in flight when the committed offsets caught up.
    await sleep(Math.max(2000, 4 * triggerMs));
    // End offsets overcount a transactional sink (commit markers and aborted batches take
    // offsets): count the committed records with a read_committed consumer; log both.
    const sinkOffsets = await admin.fetchTopicOffsets(sink);
    const sinkEndOffsets = sinkOffsets.reduce((n, o) => n + Number(o.high), 0);
    const sinkRecords = await countCommitted(kafka, sink, tag);

    const events = (await call<ScalingEventView[]>('GET', `/api/v1/queries/${qid}/scaling-events?limit=1000`))
      .body;
    const producedAt = (liveMs: number): number => {
      let last = producedAtStart;
      for (const s of samples) {
        if (s.liveMs > liveMs) break;
        last = s.produced;
      }
      return last;
    };
    const ticks = tickPhase(
      events
        .map((e) => Date.parse(e.at) - t0)
        .filter((ms) => ms >= 0 && ms <= liveDurationMs)
        .map((ms) => (ms / 1000) * speedup),
      (loopIntervalMs / 1000) * speedup,
    );
    if (ticks)
      log(
        `the loop's ticks fell ${ticks.seconds} profile s after each multiple of ${(loopIntervalMs / 1000) * speedup} s (± ${ticks.spreadSeconds} s over ${ticks.ticks} ticks)`,
      );
    const acted = events
      .filter((e) => e.acted && e.inputs?.scaled === true)
      .map((e) => ({ ...e, liveMs: Date.parse(e.at) - t0, from: e.fromInstances, to: e.toInstances }))
      .filter((e) => e.liveMs >= 0 && e.liveMs <= liveDurationMs)
      .sort((a, b) => a.liveMs - b.liveMs);
    const runBatches = await batchesSince(call, qid, t0);
    const online = scaleOutsOnline(acted, runBatches, speedup);
    log(
      `scale-outs online after (profile s): ${online.map((x) => `${Math.round(x.timeSeconds)}s:${x.from}→${x.to} ${x.onlineSeconds ?? 'never'}${x.after ? ` (then ${x.after.rowsPerLiveSecond} rows/s live, ${Math.round(x.after.rateLimitedShare * 100)} % of batches with a rate limit set)` : ''}`).join(', ') || 'none'}`,
    );
    const actions: ScaleAction[] = acted.map((e) => {
      // Produce rate over the 60 profile seconds before the action, in profile records/s.
      const backMs = Math.max(0, e.liveMs - (60 * 1000) / speedup);
      const span = Math.max(1, ((e.liveMs - backMs) / 1000) * speedup);
      return {
        timeSeconds: (e.liveMs / 1000) * speedup,
        from: e.fromInstances,
        to: e.toInstances,
        reason: e.reason,
        inputRate: (producedAt(e.liveMs) - producedAt(backMs)) / span / rateScale,
      };
    });

    // Each 1 s live sample stands for `speedup` profile seconds.
    const lagBySecond = new Float64Array(Math.ceil(profile.durationSeconds) + 1);
    let from = 0;
    for (const s of samples) {
      const to = Math.min(lagBySecond.length, Math.round((s.liveMs / 1000) * speedup) + 1);
      lagBySecond.fill(s.lagSeconds * speedup, from, to);
      from = to;
    }
    let prevMs = 0;
    let instanceSeconds = 0;
    let sloViolationSeconds = 0;
    for (const s of samples) {
      const dt = ((s.liveMs - prevMs) / 1000) * speedup;
      instanceSeconds += s.desired * dt;
      if (s.lagSeconds > sloLive) sloViolationSeconds += dt;
      prevMs = s.liveMs;
    }
    const violations = violationSpans(samples, sloLive, speedup);
    log(`over the lag objective (profile s): ${formatSpans(violations)}`);
    const maxBatchMs = Math.max(0, ...samples.map((s) => s.batchDurationMs ?? 0));
    const summary: SimulationSummary = {
      policy,
      profile: profile.name,
      sloViolationSeconds: Math.round(sloViolationSeconds),
      instanceSeconds: Math.round(instanceSeconds),
      scaleActions: actions.length,
      oscillations: countOscillations(actions),
      // Live runs have no per-second produce history here; the profile's nominal rate stands in.
      reversals: countReversals(
        actions,
        Float64Array.from({ length: lagBySecond.length }, (_, s) => nominalRateAt(profile.input, s)),
      ),
      actionsToConverge: countActionsToConverge(
        actions,
        lagBySecond,
        profile.slo.maxLagSeconds,
        profile.input,
        stepTime(profile),
        profile.durationSeconds,
      ),
      maxLagSeconds: +(Math.max(0, ...samples.map((s) => s.lagSeconds)) * speedup).toFixed(2),
      maxBatchDurationSeconds: +((maxBatchMs / 1000) * speedup).toFixed(2),
      lostRecords: produced - sinkRecords,
    };
    log(
      `produced ${produced}, sink ${sinkRecords} committed records (end offsets ${sinkEndOffsets}), drained ${drained}, actions ${actions.map((a) => `${Math.round(a.timeSeconds)}s:${a.from}→${a.to}`).join(' ') || 'none'}, ` +
        `max live batch ${maxBatchMs} ms (trigger ${triggerMs} ms), max live lag ${Math.max(0, ...samples.map((s) => s.lagSeconds)).toFixed(2)} s`,
    );
    return {
      summary,
      produced,
      sinkRecords,
      drained,
      rateScale,
      partitions,
      minInstances,
      maxInstances,
      measuredCapacity,
      calibration,
      cpuLimitApplied,
      scaleOutsOnline: online,
      scaleOutCalibration,
      chargedLine,
      violations,
      warmup,
      triggerMs,
      tickPhase: ticks,
      actions,
      trace: { batches: runBatches.sort((a, b) => a.liveMs - b.liveMs), samples, calibrationBatches },
      loadBefore,
      loadAfter: loadAverage(),
    };
  } finally {
    if (calibrationId !== undefined)
      await call('DELETE', `/api/v1/queries/${calibrationId}`).catch(() => undefined);
    if (id !== undefined) {
      const r = await call('DELETE', `/api/v1/queries/${id}`).catch((e: Error) => ({
        status: 0,
        body: e.message,
      }));
      if (r.status >= 300 || r.status === 0) log(`DELETE query → ${r.status}`);
      // Let the control plane stop the engines before it goes away itself.
      for (let i = 0; i < 60; i++) {
        const d = await call<Detail>('GET', `/api/v1/queries/${id}`).catch(() => undefined);
        if (!d || d.status === 404 || d.body.instances.every((x) => x.status !== 'RUNNING')) break;
        await sleep(500);
      }
    }
    await admin.disconnect().catch(() => undefined);
    cp.kill('SIGTERM');
    await new Promise((r) => (cp.exitCode !== null ? r(null) : cp.once('exit', r)));
  }
}
