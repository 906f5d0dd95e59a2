// `node -r @swc-node/register bench/alerts/core-profile.ts [queries] [partitions] [ticks]`
//
// The evaluation thread's computation alone (EvaluationCore, no database, no thread, no API): the
// default rules plus bench:alerts' timeLag rule over N queries × P partitions with a new lag
// reading for every query every tick, as bench:alerts feeds it. Prints each phase's median and
// p99 (ms) over the ticks after the first two; run it under `node --cpu-prof` to see inside them.
import { randomUUID } from 'node:crypto';
import { DEFAULT_RULES } from '@sluice/alerting';
import type { LagReading } from '../../apps/control-plane/src/lag/lag.service';
import { EvaluationCore } from '../../apps/control-plane/src/alerting/evaluation-core';
import type {
  AlertInput,
  QueryInput,
  RuleInput,
} from '../../apps/control-plane/src/alerting/evaluation-messages';
import { packLags } from '../../apps/control-plane/src/alerting/packed-lags';
import { syntheticPartitions } from './synthetic-partitions';

const [queries = 1000, partitions = 16, ticks = 30] = process.argv.slice(2).map(Number);
const INTERVAL_MS = 10_000;
const rules: RuleInput[] = [
  ...DEFAULT_RULES.map((r) => ({ ...r, id: randomUUID(), queries: [] as string[] })),
  {
    id: randomUUID(),
    name: 'BenchTimeLag',
    kind: 'timeLag',
    params: { thresholdSeconds: 60 },
    forSeconds: 30,
    severity: 'warning',
    labels: {},
    annotations: { summary: '{{ $labels.query }} is {{ $value }} s behind' },
    queries: [],
  },
];
const qs: QueryInput[] = Array.from({ length: queries }, (_, i) => ({
  id: randomUUID(),
  name: `bench-q${i}`,
  phase: 'RUNNING',
  desiredState: 'RUNNING',
  lastProgressAtMs: null,
  conditions: [],
  crashTimes: [],
}));

const core = new EvaluationCore();
const phases: Record<string, number[]> = {};
/** The Alert rows as the evaluator would read them back after writing the core's changes. */
let alertUpserts: AlertInput[] = [];
let alertsRemoved: string[] = [];
const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
const t0 = Date.parse('2026-12-02T08:00:00Z');
for (let tick = 0; tick < ticks; tick++) {
  const now = t0 + tick * INTERVAL_MS;
  const lags = new Map<string, LagReading>();
  for (const [i, q] of qs.entries()) {
    // bench:alerts' synthetic source: offsets advance every tick, a small lag with noise.
    const committed = 1000 * (tick + 1);
    const seconds = i % 20 === 0 && tick > 5 && tick < 13 ? 120 : 1;
    lags.set(q.id, {
      readAtMs: now,
      partitions: syntheticPartitions(partitions, committed, seconds, tick * 10),
    });
  }
  const started = performance.now();
  const cpu = process.cpuUsage();
  const out = core.evaluate({
    nowMs: now,
    full: tick === 0,
    ...(tick === 0 ? { rules } : {}),
    queries: { upserts: tick === 0 ? qs : [], removed: [] },
    alerts: { upserts: alertUpserts, removed: alertsRemoved },
    lags: packLags(lags),
    lagsGone: [],
    dashboardUrl: 'http://localhost:3000',
    saveHistories: Math.ceil(queries / 6),
  });
  out.phasesMs.total = Math.round(performance.now() - started);
  const used = process.cpuUsage(cpu);
  out.phasesMs.cpu = Math.round((used.user + used.system) / 1000);
  alertUpserts = out.writes.upserts.map((u) => ({
    id: u.id,
    ruleId: u.ruleId,
    queryId: u.queryId,
    queryName: u.queryName,
    state: u.state,
    activeAtMs: ms(u.activeAt),
    firedAtMs: ms(u.firedAt),
    resolvedAtMs: ms(u.resolvedAt),
    value: u.value,
    figures: u.figures,
  }));
  alertsRemoved = out.writes.deletes;
  if (tick < 2) continue;
  (phases.transitions ??= []).push(out.transitions);
  for (const [k, v] of Object.entries(out.phasesMs)) (phases[k] ??= []).push(v);
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1];
for (const [k, v] of Object.entries(phases))
  console.log(`${k.padEnd(10)} p50 ${pct(v, 50)}  p99 ${pct(v, 99)}`);
