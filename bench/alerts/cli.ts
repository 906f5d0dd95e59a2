// `npm run -s bench:alerts [-- --queries 1000 --partitions 16 --interval-ms 10000 --shares 8 --seconds 240 --lag-poll-ms 0 --progress-ms 1000 --api-replica --json]`
//
// The built-in alert evaluator at scale, on the real PostgreSQL and Redis, in a throwaway
// database (created, migrated and dropped here): N queries × P partitions whose lag comes from a
// synthetic LagSource (so the figure is the evaluator's, not Kafka's), every default rule plus a
// bench timeLag rule (threshold 60 s, for 30 s), a real HTTP receiver on loopback.
//
// `--progress-ms N` (default 1000; 0: no query's lastProgressAt moves, as before 2026-12-05) moves
// every query's lastProgressAt every N ms, as running engines' progress does (the progress writer
// stamps it with every ingested batch): every query's version row then changes each tick, and the
// evaluator reads and hands over every query, as in a deployment with engines running.
//
// `--shares N` (default 8, the control plane's default): SLUICE_ALERT_EVAL_SHARES, the passes an
// interval is divided into (evaluation-shares.ts); `--shares 1` evaluates every query in one pass,
// as before 2026-12-06. The figures below are per pass unless they say "interval".
//
// `--lag-poll-ms N` (default 0: lag read at each evaluation) serves the lag from a poll every N ms
// instead, as a deployment's LagService does (bench-app.ts SyntheticLag): detection then includes
// the poll's staleness.
//
// `--api-replica` probes the API of a control plane of its own instead of the evaluating process's
// (api-replica.ts): a control that leaves the box's CPUs and PostgreSQL shared and nothing else.
// The GC and pool-wait figures stay the evaluating process's.
//
// The lag profile: a small baseline; 5 % of the queries get one long spike (120 s behind for
// 70 s, longer than `for` + 2 intervals: must fire), 5 % one short spike (15 s, shorter than
// `for` - an interval: must not fire). Figures:
//   evaluationMsP50/P99   duration of one pass: every rule on one share's queries (+ routing)
//   evaluationIntervalMsP50/P99 the passes of one interval added up: every rule on every query
//   evaluationIntervalCpuMsP50/P99 their CPU (all threads) added up
//   shares / passSpacingMs the shares used and the time between two passes
//   evaluationCpuMsP50/P99 CPU time of this process (all threads) during one evaluation
//   mainThreadCpuMsP50/P99 the same for the main thread alone (the API's event loop; 10 ms ticks)
//   loopDelayMaxMsP50/P99 longest event-loop delay of the main thread during an evaluation
//   loadAverageStart/End  os.loadavg() (1, 5, 15 min): the box is shared, figures depend on it
//   apiP99IdleMs          GET /api/v1/alerts?state=firing p99 while no evaluation runs (the
//                         prober and the receiver run in a child process: outside-process.ts)
//   apiP99DuringMs        the same while an evaluation runs
//   apiP99DuringWarmMs    the same, the first two evaluations left out (as the evaluation figures)
//   apiP99IdleBounds / apiP99DuringWarmBounds the p99 with its 95 % interval (quantile-bounds.ts):
//                         n probes, lower, upper (null: too few probes to bound it from above;
//                         a 240 s run has ~75 "during" probes, `--seconds 1800` ~600)
//   apiDuringWarmMs       p50 / p90 / p95 of the warm "during" probes
//   apiP99PlaceboMs       the control for apiP99DuringWarmMs (probe-windows.ts): the p99 of the
//                         probes in the warm evaluations' windows moved by ¼, ½ and ¾ of the
//                         pass spacing, where no evaluation runs; the same statistic over as few
//                         probes, so "during" minus its median is what the evaluations add
//   probesPlacebo         how many probes each placebo set has (probesDuringWarm: the real one)
//   apiAllMs              p99 and p99.9 of every probe of the run, during an evaluation or not
//   apiServerMs           the server's handling of the probes alone (request parsed → response
//                         written, on the main thread): idle p99, warm "during" p50 / p90 / p99;
//                         each slowest probe's `server` is [before, handling, after] in ms
//   apiP99PreSlotMs       the p99 of the probes in the warm evaluations' windows moved back by
//                         the lead of the main thread's pre-slot collection (pre-slot-collection.ts):
//                         where that pause went, counted among the idle probes (probesPreSlot: how many)
//   slowestProbesDuringWarm the five slowest warm "during" probes, their evaluation's start and
//                         the evaluation's phases each overlapped (probe-windows.ts)
//   detectionDelaySeconds worst time from a long spike's start (threshold crossed) to the
//                         webhook's arrival; target ≤ for + 2 × interval
//   missed / falseAlerts  long spikes never notified / notifications of queries without one
//   detectionStepsSlowest the three slowest detections split: spike start → pending transition,
//                         pending → firing, firing → webhook received
//   phasesMsP50/P99       median / p99 ms per phase of an evaluation (read, prepare, compute (the
//                         worker thread, with its own compute.* phases: compute.gc its collections
//                         inside the evaluation, compute.lastIdleCollection the full collection it
//                         ran between the last two, outside any evaluation), writes, gauges, route;
//                         lastPreSlotCollection the main thread's scavenge before the last slot),
//                         with the read's and the router's own steps (read.*, route.*)
//   slowestEvaluations    the two slowest evaluations' duration, CPU and phases (what p99 waits on),
//                         when they ran and the webhooks received in the interval before each
//   routedGroupsP50/Max   notification groups the router decided per evaluation
//   firingByRule          transitions to firing per rule over the run (from the database): only
//                         BenchTimeLag should fire (the long spikes); any default rule firing on
//                         this profile (lag 0.5–9.5 s, offsets advancing) is noise
//
// Runs with `node -r @swc-node/register` (Nest needs decorator metadata, which tsx does not emit).
import { fork, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import type { FromChild, ToChild } from './outside-process';
import { startApiReplica } from './api-replica';
import { PRE_SLOT_COLLECTION_LEAD_MS } from '../../apps/control-plane/src/alerting/pre-slot-collection';
import {
  pausedMsIn,
  phasesOverlapped,
  placeboProbes,
  probesIn,
  servedWithin,
  shifted,
} from './probe-windows';
import { quantileBounds, sortedQuantile } from './quantile-bounds';

const ROOT = path.resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '16' },
    'interval-ms': { type: 'string', default: '10000' },
    shares: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '240' },
    'lag-poll-ms': { type: 'string', default: '0' },
    'progress-ms': { type: 'string', default: '1000' },
    'api-replica': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const QUERIES = int(values.queries, 1, 20_000, '--queries');
const PARTITIONS = int(values.partitions, 1, 256, '--partitions');
const INTERVAL_MS = int(values['interval-ms'], 200, 60_000, '--interval-ms');
const SHARES = int(values.shares, 1, 64, '--shares');
const SECONDS = int(values.seconds, 60, 3600, '--seconds');
const LAG_POLL_MS = int(values['lag-poll-ms'], 0, 60_000, '--lag-poll-ms');
const PROGRESS_MS = int(values['progress-ms'], 0, 60_000, '--progress-ms');
const THRESHOLD_S = 60;
const FOR_S = 30;
const LONG_SPIKE_MS = 70_000;
const SHORT_SPIKE_MS = 15_000;
const SPIKE_LAG_S = 120;

function int(v: string | undefined, min: number, max: number, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}
const pct = (xs: readonly number[], p: number): number =>
  sortedQuantile(
    [...xs].sort((a, b) => a - b),
    p,
  );
const round = (x: number): number => Math.round(x * 10) / 10;
const roundOrNull = (x: number | null): number | null => (x === null ? null : round(x));
/** A p99 with its 95 % interval, rounded for the output. */
const boundsOf = (xs: readonly number[]) => {
  const b = quantileBounds(xs, 99);
  return { n: b.n, p99: round(b.value), lower: roundOrNull(b.lower), upper: roundOrNull(b.upper) };
};
const log = (m: string) => {
  if (!values.json) console.error(m);
};

interface Spike {
  startMs: number;
  endMs: number;
  long: boolean;
}

async function main(): Promise<void> {
  const baseUrl = process.env.DATABASE_URL ?? 'postgresql://sluice@127.0.0.1:55432/sluice';
  const dbName = `sluice_bench_alerts_${process.pid}`;
  const url = new URL(baseUrl);
  url.pathname = `/${dbName}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const env = { ...process.env, DATABASE_URL: url.toString() };
  try {
    const migrated = spawnSync('npm', ['run', '-s', 'db:migrate'], { cwd: ROOT, env, encoding: 'utf8' });
    if (migrated.status !== 0) throw new Error(`db:migrate: ${migrated.stderr}`);
    const token = spawnSync(
      'npm',
      ['run', '-s', 'cli', '--', 'token', 'create', '--role', 'admin', '--name', 'bench'],
      {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      },
    );
    if (token.status !== 0) throw new Error(`token create: ${token.stderr}`);
    process.env.DATABASE_URL = url.toString();
    await run(url.toString(), token.stdout.trim());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

/** Epoch ms of each query's first transition to `pending` and to `firing` of one rule. */
async function firstTransitions(
  databaseUrl: string,
  rule: string,
): Promise<Map<string, { pendingMs?: number; firingMs?: number }>> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const r = await db.query<{ query: string; to: string; ms: string }>(
      `SELECT "queryName" AS query, "to", (extract(epoch FROM min("at")) * 1000)::bigint::text AS ms
       FROM "AlertTransition" WHERE "ruleName" = $1 AND "to" IN ('pending', 'firing')
       GROUP BY "queryName", "to"`,
      [rule],
    );
    const out = new Map<string, { pendingMs?: number; firingMs?: number }>();
    for (const row of r.rows) {
      const e = out.get(row.query) ?? {};
      if (row.to === 'pending') e.pendingMs = Number(row.ms);
      else e.firingMs = Number(row.ms);
      out.set(row.query, e);
    }
    return out;
  } finally {
    await db.end();
  }
}

/** Moves every query's lastProgressAt every `everyMs` (one statement, as progress-writer.ts's). */
async function progressMover(databaseUrl: string, everyMs: number): Promise<{ stop(): Promise<void> }> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = db
      .query(`UPDATE "Query" SET "lastProgressAt" = now() WHERE "deletedAt" IS NULL`)
      .catch((e: Error) => console.error(`bench progress update failed: ${e.message}`));
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      await db.end();
    },
  };
}

/** Transitions to firing per rule name over the run. */
async function firingTransitionsByRule(databaseUrl: string): Promise<Record<string, number>> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const r = await db.query<{ rule: string; n: number }>(
      `SELECT "ruleName" AS rule, count(*)::int AS n FROM "AlertTransition" WHERE "to" = 'firing'
       GROUP BY "ruleName" ORDER BY "ruleName"`,
    );
    return Object.fromEntries(r.rows.map((x) => [x.rule, x.n]));
  } finally {
    await db.end();
  }
}

async function run(databaseUrl: string, token: string): Promise<void> {
  // Queries: rows only (nothing reconciles them in this bench's module), owned by the bench's
  // cluster: a leader evaluates only its own cluster's queries (cluster-scope.ts), and nothing
  // here adopts a row without one.
  const { startBenchApp, BENCH_CLUSTER } = await import('./bench-app');
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const ids: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < QUERIES; i += 500) {
    const batch = Array.from({ length: Math.min(500, QUERIES - i) }, (_, k) => `bench-q${i + k}`);
    const r = await db.query<{ id: string; name: string }>(
      `INSERT INTO "Query" (id, name, "desiredState", phase, cluster, "updatedAt")
       SELECT gen_random_uuid(), n, 'RUNNING', 'RUNNING', $2, now() FROM unnest($1::text[]) n RETURNING id, name`,
      [batch, BENCH_CLUSTER],
    );
    for (const row of r.rows) {
      ids.push(row.id);
      names.push(row.name);
    }
  }
  await db.end();

  const spikes = new Map<string, Spike>();
  // The receiver and the API prober run in a child process (outside-process.ts says why).
  const outside = fork(path.join(__dirname, 'outside-process.ts'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const fromOutside = <T extends FromChild['type']>(type: T) =>
    new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
      const onMessage = (m: FromChild) => {
        if (m.type !== type) return;
        outside.off('message', onMessage);
        outside.off('exit', onExit);
        resolve(m as Extract<FromChild, { type: T }>);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`bench receiver/prober process exited (${code})`));
      outside.on('message', onMessage);
      outside.once('exit', onExit);
    });
  const toOutside = (m: ToChild) => outside.send(m);
  const receiverPort = (await fromOutside('receiver')).port;

  const app = await startBenchApp({
    databaseUrl,
    intervalMs: INTERVAL_MS,
    shares: SHARES,
    partitions: PARTITIONS,
    lagPollMs: LAG_POLL_MS,
    lagSeconds: (queryId, nowMs) => {
      const s = spikes.get(queryId);
      if (s && nowMs >= s.startMs && nowMs < s.endMs) return SPIKE_LAG_S;
      return ((queryId.charCodeAt(0) + Math.floor(nowMs / 1000)) % 10) + 0.5;
    },
  });
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${app.base}${p}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  await call('POST', '/api/v1/alert-rules', {
    name: 'BenchTimeLag',
    kind: 'timeLag',
    params: { thresholdSeconds: THRESHOLD_S },
    forSeconds: FOR_S,
    severity: 'warning',
    annotations: { summary: '{{ $labels.query }} {{ $value }} s behind' },
  });
  await call('POST', '/api/v1/receivers', {
    name: 'bench',
    kind: 'webhook',
    url: `http://127.0.0.1:${receiverPort}/`,
    matchers: [{ name: 'alertname', value: 'BenchTimeLag' }],
    groupWaitSeconds: 0,
    groupIntervalSeconds: 1,
    repeatIntervalSeconds: 86400,
  });
  const replica = values['api-replica'] ? await startApiReplica(databaseUrl) : undefined;
  // Spike schedule from now on (the app is up), deterministic per query index.
  const t0 = Date.now();
  const loadStart = os.loadavg().map(round);
  const span = SECONDS * 1000 - LONG_SPIKE_MS - 2 * INTERVAL_MS - 20_000;
  ids.forEach((id, i) => {
    const bucket = i % 20;
    if (bucket !== 0 && bucket !== 1) return;
    const long = bucket === 0;
    const startMs = t0 + 20_000 + Math.floor((((i * 7919) % 1000) / 1000) * Math.max(span, 1000));
    spikes.set(id, { startMs, endMs: startMs + (long ? LONG_SPIKE_MS : SHORT_SPIKE_MS), long });
  });
  log(
    `bench:alerts ${QUERIES} queries × ${PARTITIONS} partitions, evaluation every ${INTERVAL_MS} ms in ${app.shares} passes, ${SECONDS} s`,
  );

  // With --progress-ms: every running query's lastProgressAt moves, as the progress writer moves it
  // with every batch of a running engine (progress-writer.ts); each query's version row then
  // changes every tick, which a deployment with engines running sees and the default run does not.
  const progress = PROGRESS_MS > 0 ? await progressMover(databaseUrl, PROGRESS_MS) : undefined;
  // API probes every 25 ms for the whole run (from the child process), classified by overlap with
  // an evaluation.
  toOutside({ type: 'probe', base: replica?.base ?? app.base, token });
  const endAt = t0 + SECONDS * 1000;
  while (Date.now() < endAt) {
    await new Promise((r) => setTimeout(r, 1000));
    log(`  t+${Math.round((Date.now() - t0) / 1000)} s: ${app.evaluations.length} evaluations`);
  }
  const outcome = fromOutside('result');
  toOutside({ type: 'stop' });
  const { probes, received, probeErrors, receiverErrors } = await outcome;
  await progress?.stop();
  await replica?.stop();
  await app.close();
  const firingByRule = await firingTransitionsByRule(databaseUrl);
  const benchTransitions = await firstTransitions(databaseUrl, 'BenchTimeLag');

  const evals = app.evaluations;
  const during = (p: { startMs: number; endMs: number }) =>
    evals.some((e) => p.startMs < e.endMs && p.endMs > e.startMs);
  const lat = (ps: typeof probes) => ps.map((p) => p.endMs - p.startMs);
  const byQuery = new Map<string, number>();
  for (const r of received) if (r.status === 'firing' && !byQuery.has(r.query)) byQuery.set(r.query, r.atMs);
  let missed = 0;
  let falseAlerts = 0;
  const delays: number[] = [];
  // Where each detected spike's delay went: start → pending, pending → firing, firing → webhook.
  const steps: Array<{ totalS: number; toPendingS: number; toFiringS: number; toWebhookS: number }> = [];
  ids.forEach((id, i) => {
    const s = spikes.get(id);
    const notifiedAt = byQuery.get(names[i]!);
    if (s?.long) {
      if (notifiedAt === undefined) missed++;
      else {
        delays.push((notifiedAt - s.startMs) / 1000);
        const t = benchTransitions.get(names[i]!);
        if (t?.pendingMs !== undefined && t.firingMs !== undefined)
          steps.push({
            totalS: round((notifiedAt - s.startMs) / 1000),
            toPendingS: round((t.pendingMs - s.startMs) / 1000),
            toFiringS: round((t.firingMs - t.pendingMs) / 1000),
            toWebhookS: round((notifiedAt - t.firingMs) / 1000),
          });
      }
    } else if (notifiedAt !== undefined) {
      falseAlerts++;
    }
  });
  // The first two intervals' passes fill the in-memory windows (and the first includes connection set-up).
  const warmEvals = evals.slice(2 * app.shares);
  const warm = warmEvals.map((e) => e.endMs - e.startMs);
  // Every query once: the passes of one interval (share 0's slot is a multiple of the interval,
  // the others follow it), only intervals whose every share ran.
  const rounds = new Map<number, typeof warmEvals>();
  for (const e of warmEvals) {
    const k = Math.floor(e.startMs / INTERVAL_MS);
    rounds.set(k, [...(rounds.get(k) ?? []), e]);
  }
  const wholeRounds = [...rounds.values()].filter((r) => new Set(r.map((e) => e.share)).size === app.shares);
  const roundMs = wholeRounds.map((r) => r.reduce((sum, e) => sum + e.endMs - e.startMs, 0));
  const roundCpuMs = wholeRounds.map((r) => r.reduce((sum, e) => sum + e.cpuMs, 0));
  const duringWarm = probesIn(probes, warmEvals);
  const placebos = [0.25, 0.5, 0.75].map((f) => placeboProbes(probes, warmEvals, f * app.passSpacingMs));
  const preSlot = placeboProbes(probes, warmEvals, -PRE_SLOT_COLLECTION_LEAD_MS);
  const served = [...app.served].sort((a, b) => a.startMs - b.startMs);
  // The server's share of probes: from the request's headers parsed to its response written.
  const serverLat = (ps: typeof probes) =>
    ps.flatMap((p) => {
      const s = servedWithin(p, served);
      return s ? [s.endMs - s.startMs] : [];
    });
  const waits = app.poolWaits.filter((w) => !w.opened);
  const slowest = (ps: typeof probes, n: number) =>
    [...ps].sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs)).slice(0, n);
  // A slow probe: what it overlapped (the evaluation's phases), what held it (GC, a pool wait), and
  // how its time splits around the server's handling.
  const explainProbe = (p: (typeof probes)[number]) => {
    const e = evals.find((x) => p.startMs < x.endMs && p.endMs > x.startMs);
    const s = servedWithin(p, served);
    return {
      ms: round(p.endMs - p.startMs),
      // Before the server parsed it (prober, loopback, a busy main thread), its handling, after.
      server: s ? [round(s.startMs - p.startMs), round(s.endMs - s.startMs), round(p.endMs - s.endMs)] : null,
      evaluationAtSeconds: round(((e?.startMs ?? NaN) - t0) / 1000),
      phases: e ? phasesOverlapped(p, e) : [],
      // The main thread's GC pauses inside the probe: how much of its wait was a collection.
      gcMs: round(pausedMsIn(p, app.gcPauses)),
      gcKinds: [...new Set(app.gcPauses.filter((g) => pausedMsIn(p, [g]) > 0).map((g) => g.kind))],
      // The longest wait for a pool connection that started inside the probe (its own query's,
      // or another's beside it: a checkout is not tied to a request).
      poolWaitMs: round(
        Math.max(
          0,
          ...waits
            .filter((w) => w.startMs >= p.startMs && w.startMs < p.endMs)
            .map((w) => w.endMs - w.startMs),
        ),
      ),
    };
  };
  const opened = app.poolWaits.filter((w) => w.opened);
  const sqlOpened = app.sqlPoolWaits.filter((w) => w.opened);
  const inWarm = (w: { startMs: number; endMs: number }) =>
    warmEvals.some((e) => w.startMs <= e.endMs && w.endMs >= e.startMs);
  const result = {
    queries: QUERIES,
    partitionsPerQuery: PARTITIONS,
    lagPollMs: LAG_POLL_MS,
    progressMs: PROGRESS_MS,
    // Where the probes went: the evaluating process, or a control plane of its own (--api-replica).
    apiServedBy: replica ? 'replica' : 'evaluating process',
    shares: app.shares,
    passSpacingMs: app.passSpacingMs,
    evaluationMsP50: round(pct(warm, 50)),
    evaluationMsP99: round(pct(warm, 99)),
    evaluationIntervalMsP50: round(pct(roundMs, 50)),
    evaluationIntervalMsP99: round(pct(roundMs, 99)),
    evaluationIntervalCpuMsP50: round(pct(roundCpuMs, 50)),
    evaluationIntervalCpuMsP99: round(pct(roundCpuMs, 99)),
    wholeIntervals: wholeRounds.length,
    apiP99IdleMs: round(pct(lat(probes.filter((p) => !during(p))), 99)),
    apiP99DuringMs: round(pct(lat(probes.filter(during)), 99)),
    apiP99DuringWarmMs: round(pct(lat(duringWarm), 99)),
    apiP99PlaceboMs: placebos.map((ps) => round(pct(lat(ps), 99))),
    apiP99PreSlotMs: round(pct(lat(preSlot), 99)),
    // Every probe of the run, wherever it fell: a pause moved from one window to another shows here.
    apiAllMs: { n: probes.length, p99: round(pct(lat(probes), 99)), p999: round(pct(lat(probes), 99.9)) },
    // The same probes, the server's handling alone (null with --api-replica: it served them).
    apiServerMs: served.length
      ? {
          idleP99: round(pct(serverLat(probes.filter((p) => !during(p))), 99)),
          duringWarmP50: round(pct(serverLat(duringWarm), 50)),
          duringWarmP90: round(pct(serverLat(duringWarm), 90)),
          duringWarmP99: round(pct(serverLat(duringWarm), 99)),
        }
      : null,
    // How much one run's p99 can say (quantile-bounds.ts): its 95 % interval from the order
    // statistics; `upper` null when too few probes bound it from above (the p99 is their maximum).
    apiP99IdleBounds: boundsOf(lat(probes.filter((p) => !during(p)))),
    apiP99DuringWarmBounds: boundsOf(lat(duringWarm)),
    apiDuringWarmMs: {
      p50: round(pct(lat(duringWarm), 50)),
      p90: round(pct(lat(duringWarm), 90)),
      p95: round(pct(lat(duringWarm), 95)),
    },
    detectionDelaySeconds: round(Math.max(...delays)),
    missed,
    falseAlerts,
    evaluations: evals.length,
    evaluationCpuMsP50: round(
      pct(
        warmEvals.map((e) => e.cpuMs),
        50,
      ),
    ),
    evaluationCpuMsP99: round(
      pct(
        warmEvals.map((e) => e.cpuMs),
        99,
      ),
    ),
    // The main thread alone (its event loop serves the API): null where /proc/thread-self is not.
    mainThreadCpuMsP50: round(
      pct(
        warmEvals.flatMap((e) => (e.mainThreadCpuMs === null ? [] : [e.mainThreadCpuMs])),
        50,
      ),
    ),
    mainThreadCpuMsP99: round(
      pct(
        warmEvals.flatMap((e) => (e.mainThreadCpuMs === null ? [] : [e.mainThreadCpuMs])),
        99,
      ),
    ),
    // Longest event-loop delay of the main thread during an evaluation (what a request waits at worst).
    loopDelayMaxMsP50: round(
      pct(
        warmEvals.map((e) => e.loopDelayMaxMs),
        50,
      ),
    ),
    loopDelayMaxMsP99: round(
      pct(
        warmEvals.map((e) => e.loopDelayMaxMs),
        99,
      ),
    ),
    loadAverageStart: loadStart,
    loadAverageEnd: os.loadavg().map(round),
    longSpikes: [...spikes.values()].filter((s) => s.long).length,
    shortSpikes: [...spikes.values()].filter((s) => !s.long).length,
    detectionDelayP50Seconds: round(pct(delays, 50)),
    detectionTargetSeconds: FOR_S + (2 * INTERVAL_MS) / 1000,
    // The three slowest detections by step (transition times are the database's, at the write).
    detectionStepsSlowest: steps.sort((a, b) => b.totalS - a.totalS).slice(0, 3),
    // Time per phase of an evaluation, median and p99 (where a slow pass spends it).
    phasesMsP50: phasePercentile(warmEvals, 50),
    phasesMsP99: phasePercentile(warmEvals, 99),
    // The two slowest passes whole: what they waited on.
    slowestEvaluations: evals
      .slice(2)
      .sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs))
      .slice(0, 2)
      .map((e) => ({
        ms: round(e.endMs - e.startMs),
        // When it ran and how many webhooks the receiver got in the interval before it: whether a
        // slow pass follows a burst of deliveries (the delivery worker shares the API's loop).
        atSeconds: round((e.startMs - t0) / 1000),
        webhooksInIntervalBefore: received.filter(
          (r) => r.atMs <= e.startMs && r.atMs > e.startMs - INTERVAL_MS,
        ).length,
        cpuMs: round(e.cpuMs),
        mainThreadCpuMs: e.mainThreadCpuMs,
        phasesMs: e.phasesMs,
      })),
    // Notification groups the router decided per evaluation (every group, or the changed and due).
    routedGroupsP50: pct(
      warmEvals.map((e) => e.routedGroups),
      50,
    ),
    routedGroupsMax: Math.max(0, ...warmEvals.map((e) => e.routedGroups)),
    // Transitions of the first interval's passes (every query's first evaluation).
    transitionsFirstEvaluation: evals.slice(0, app.shares).reduce((sum, e) => sum + e.transitions, 0),
    firingByRule,
    // The first evaluation includes starting the worker thread (from its bundle when run from source).
    firstEvaluationMs: evals[0] ? round(evals[0].endMs - evals[0].startMs) : null,
    probesIdle: probes.filter((p) => !during(p)).length,
    probesDuring: probes.filter(during).length,
    probesDuringWarm: duringWarm.length,
    // The five slowest of them, with the start of the evaluation each overlapped (s into the run).
    slowestProbesDuringWarm: slowest(duringWarm, 5).map(explainProbe),
    // The same for the probes around the main thread's pre-slot collection.
    slowestProbesPreSlot: slowest(preSlot, 3).map(explainProbe),
    probesPlacebo: placebos.map((ps) => ps.length),
    probesPreSlot: preSlot.length,
    // Checkouts of the PostgreSQL pool that waited ≥ 1 ms for a connection, in the warm evaluations'
    // windows and in the whole run, and the longest.
    poolWaits: {
      during: waits.filter((w) => inWarm(w)).length,
      run: waits.length,
      maxMs: round(Math.max(0, ...waits.map((w) => w.endMs - w.startMs))),
      // Connections the pool opened (each a new PostgreSQL backend): in the warm evaluations, in the run.
      openedDuring: opened.filter((w) => inWarm(w)).length,
      openedRun: opened.length,
      // The same for the alerting's own pool (PrismaRepository.sql).
      sqlOpenedDuring: sqlOpened.filter((w) => inWarm(w)).length,
      sqlOpenedRun: sqlOpened.length,
    },
    // The main thread's GC pause time per second of window: in the warm evaluations, in the
    // placebo windows (¼, ½, ¾ of the interval later), in the pre-slot windows, and over the run.
    gcMsPerSecond: {
      during: round(gcShare(warmEvals, app.gcPauses)),
      placebo: [0.25, 0.5, 0.75].map((f) =>
        round(gcShare(shifted(warmEvals, f * app.passSpacingMs), app.gcPauses)),
      ),
      preSlot: round(gcShare(shifted(warmEvals, -PRE_SLOT_COLLECTION_LEAD_MS), app.gcPauses)),
      run: round(gcShare([{ startMs: t0, endMs: t0 + SECONDS * 1000 }], app.gcPauses)),
    },
    probeErrors,
    receiverErrors,
    cpus: os.cpus().length,
    date: new Date().toISOString().slice(0, 10),
  };
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(path.join(os.tmpdir(), 'sluice-bench-alerts.json'), JSON.stringify(result));
}

/** GC pause ms per second of the given windows. */
function gcShare(
  windows: ReadonlyArray<{ startMs: number; endMs: number }>,
  pauses: ReadonlyArray<{ startMs: number; endMs: number }>,
): number {
  const total = windows.reduce((s, w) => s + (w.endMs - w.startMs), 0);
  const paused = windows.reduce((s, w) => s + pausedMsIn(w, pauses), 0);
  return total > 0 ? (paused / total) * 1000 : 0;
}

/** Each phase's percentile over the warm passes. */
function phasePercentile(
  warm: ReadonlyArray<{ phasesMs: Readonly<Record<string, number>> }>,
  p: number,
): Record<string, number> {
  return Object.fromEntries(
    [...new Set(warm.flatMap((e) => Object.keys(e.phasesMs)))].map((k) => [
      k,
      round(
        pct(
          warm.map((e) => e.phasesMs[k] ?? 0),
          p,
        ),
      ),
    ]),
  );
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);
