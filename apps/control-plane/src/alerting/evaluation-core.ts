// The pure part of an alert evaluation: what the control plane gathered (rules, queries, alerts,
// lag readings) in, the alerts' state changes and the gauges' values out. It keeps the per-query
// history (Burrow's commit windows, SLO lag samples) between evaluations. No database, no
// metrics, no clock of its own: it runs in a worker thread (alert-evaluation.worker.ts) so that
// 16 rules × 1,000 queries × 16 partitions of computation never hold the API's event loop, and in
// unit tests as it is.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  consumerStatusOf,
  DEFAULT_WINDOW_SIZE,
  evaluateRule,
  judgeRule,
  INACTIVE,
  QueryHistory,
  renderTemplate,
  step,
  type AlertState,
  type AnyRuleDefinition,
  type Figures,
  type HistoryOptions,
  type PartitionEvaluation,
  type QuerySnapshot,
} from '@sluice/alerting';
import { emptyWrites, type AlertWrites } from './alert-writes';
import { unpackLagsInto, type QueryLag } from './packed-lags';
import { definitionOf } from './rule-row';
import {
  HISTORY_CHUNK,
  type AlertInput,
  type EvaluationInput,
  type EvaluationOutput,
  type QueryGauges,
  type QueryInput,
  type RuleInput,
  type StoredHistory,
} from './evaluation-messages';

/** Kinds whose condition needs the lag: without a fresh reading their alerts keep their state. */
const LAG_KINDS = new Set(['timeLag', 'recordsLag', 'consumerStatus', 'sloBurn']);
/** `sluice_query_recent_crashes` counts the crashes of the last 10 minutes. */
const RECENT_CRASHES_MS = 600_000;

interface Snapshot {
  snap: QuerySnapshot;
  lagKnown: boolean;
}

export class EvaluationCore {
  private readonly histories = new Map<string, QueryHistory>();
  /** When the lag reading last fed into each query's history: a reading is observed once. */
  private readonly observedAt = new Map<string, number>();
  /** Histories observed since the last save. */
  private readonly dirty = new Set<string>();
  // The main thread's copies, kept up to date by its deltas (EvaluationInput): the rules, the live
  // queries, the Alert rows as of its last read, each query's last lag reading.
  private rules: RuleInput[] = [];
  private readonly queries = new Map<string, QueryInput>();
  private readonly alertRows = new Map<string, AlertInput>();
  private readonly lags = new Map<string, QueryLag>();
  /** The gauge values last reported per query (only changes are reported). */
  private readonly reported = new Map<string, ReportedGauges>();

  evaluate(input: EvaluationInput): EvaluationOutput {
    const { nowMs } = input;
    const lifecycleMs = input.lifecycleMs ?? nowMs;
    const phasesMs: Record<string, number> = {};
    let t = performance.now();
    const lap = (name: string) => {
      const n = performance.now();
      phasesMs[name] = Math.round(n - t);
      t = n;
    };
    this.apply(input);
    const rules = this.rules;
    const queries = [...this.queries.values()];
    const alerts = [...this.alertRows.values()];
    lap('apply');
    const options = historyOptions(rules);
    if (input.stored) this.load(input.stored, options);

    for (const id of this.histories.keys()) {
      if (this.queries.has(id)) continue;
      this.histories.delete(id);
      this.observedAt.delete(id);
      this.dirty.delete(id);
    }
    const snapshots: Snapshot[] = queries.map((q) => this.snapshot(q, this.lags.get(q.id), options));
    lap('snapshots');

    const ruleById = new Map(rules.map((r) => [r.id, r]));
    const queryById = new Map(queries.map((q) => [q.id, q]));
    // Alerts by rule, then by query: no key string per (rule, query) pair of the 16,000 a tick.
    const byRule = new Map<string, Map<string, AlertInput>>();
    for (const a of alerts) {
      let m = byRule.get(a.ruleId);
      if (!m) byRule.set(a.ruleId, (m = new Map()));
      m.set(a.queryId, a);
    }
    /** What each alert is after this pass, for the alerts gauge. */
    const after = new Map<string, { state: string; rule: string; query: string }>();
    for (const a of alerts) {
      const rule = ruleById.get(a.ruleId);
      if (rule)
        after.set(`${a.ruleId}/${a.queryId}`, { state: a.state, rule: rule.name, query: a.queryName });
    }
    /** Existing alerts this pass evaluated (or deliberately left alone). */
    const seen = new Set<AlertInput>();
    const writes = emptyWrites();
    let evaluations = 0;
    let transitions = 0;
    const note = (rule: RuleInput, queryId: string, queryName: string, phase: string) => {
      const key = `${rule.id}/${queryId}`;
      if (phase === 'inactive') after.delete(key);
      else after.set(key, { state: phase, rule: rule.name, query: queryName });
    };
    for (const rule of rules) {
      const def = definitionOf(rule);
      const names = new Set(rule.queries);
      const existingOf = byRule.get(rule.id);
      const lagKind = LAG_KINDS.has(rule.kind);
      const lifecycle = { name: rule.name, forMs: rule.forSeconds * 1000 };
      for (let i = 0; i < queries.length; i++) {
        const q = queries[i]!;
        if (names.size > 0 && !names.has(q.name)) continue;
        const existing = existingOf?.get(q.id);
        if (existing) seen.add(existing);
        const { snap, lagKnown } = snapshots[i]!;
        // No lag reading this tick: no evidence either way, the alert keeps its state.
        if (lagKind && !lagKnown && q.desiredState === 'RUNNING') continue;
        evaluations++;
        const verdict = judgeRule(def, snap, nowMs);
        if (verdict === 'unknown') continue;
        const active = verdict === 'active' && (q.desiredState === 'RUNNING' || rule.kind === 'queryHealth');
        // Inactive and still not active: step() would say `none` (most of the 16,000 pairs a tick).
        if (!active && !existing) continue;
        const r = step(stateOf(existing), active, lifecycleMs, lifecycle);
        if (r.transition === 'none') continue;
        transitions++;
        // The value and figures the annotations quote, only for what changed state.
        const ev = evaluateRule(def, snap, nowMs);
        persist(
          input.dashboardUrl,
          writes,
          rule,
          def,
          q.id,
          q.name,
          existing,
          r.state,
          r.transition,
          ev.value,
          ev.figures,
          nowMs,
        );
        note(rule, q.id, q.name, r.state.phase);
      }
    }
    // Alerts whose rule was disabled/deleted or whose query is gone: resolve what fired, drop the rest.
    for (const a of alerts) {
      if (seen.has(a)) continue;
      const rule = ruleById.get(a.ruleId);
      const r = step(stateOf(a), false, lifecycleMs, { name: rule?.name ?? '', forMs: 0 });
      if (r.transition === 'none') continue;
      transitions++;
      if (!rule) {
        writes.deletes.push(a.id);
        after.delete(`${a.ruleId}/${a.queryId}`);
        continue;
      }
      const queryName = queryById.get(a.queryId)?.name ?? a.queryName;
      persist(
        input.dashboardUrl,
        writes,
        rule,
        definitionOf(rule),
        a.queryId,
        queryName,
        a,
        r.state,
        r.transition,
        a.value,
        a.figures as Figures,
        nowMs,
      );
      note(rule, a.queryId, queryName, r.state.phase);
    }
    lap('rules');

    const gauges: QueryGauges[] = [];
    for (const { snap } of snapshots) {
      const now = gaugeInputs(snap, nowMs);
      const last = this.reported.get(snap.queryId);
      if (last && sameGauges(last, now)) continue;
      this.reported.set(snap.queryId, now);
      gauges.push(queryGauges(snap.queryId, now));
    }
    const alertsAfter: string[] = [];
    for (const a of after.values()) alertsAfter.push(a.state, a.rule, a.query);
    lap('gauges');
    const out: EvaluationOutput = { evaluations, transitions, writes, alertsAfter, gauges, phasesMs };
    if (input.saveHistories > 0) out.histories = this.takeDirty(input.saveHistories);
    lap('histories');
    return out;
  }

  /** Brings the copies up to date with the main thread's read (see EvaluationInput). */
  private apply(input: EvaluationInput): void {
    if (input.full) {
      this.rules = [];
      this.queries.clear();
      this.alertRows.clear();
      this.lags.clear();
      this.reported.clear();
    }
    if (input.rules) this.rules = input.rules;
    for (const id of input.queries.removed) {
      this.queries.delete(id);
      this.lags.delete(id);
      this.reported.delete(id);
    }
    for (const q of input.queries.upserts) this.queries.set(q.id, q);
    const progress = input.progress;
    if (progress) {
      for (let i = 0; i < progress.ids.length; i++) {
        const q = this.queries.get(progress.ids[i]!);
        if (q) q.lastProgressAtMs = progress.atMs[i]!;
      }
    }
    for (const id of input.alerts.removed) this.alertRows.delete(id);
    for (const a of input.alerts.upserts) this.alertRows.set(a.id, a);
    for (const id of input.lagsGone) this.lags.delete(id);
    unpackLagsInto(input.lags, this.lags);
  }

  /** A new leader continues the histories the previous one saved (its own observations win). */
  private load(chunks: readonly string[], options: HistoryOptions): void {
    for (const row of chunks.flatMap((c) => JSON.parse(c) as StoredHistory[])) {
      if (this.histories.has(row.queryId)) continue;
      this.histories.set(row.queryId, QueryHistory.fromState(options, row.state));
      const observedAtMs = (row.state as { observedAtMs?: unknown } | null)?.observedAtMs;
      if (typeof observedAtMs === 'number') this.observedAt.set(row.queryId, observedAtMs);
    }
  }

  /**
   * Up to `max` histories observed since their last save, as JSON arrays of HISTORY_CHUNK at most:
   * `dirty` keeps the order in which they first changed after a save, so the longest unsaved go
   * first and every changing history is saved at least every (changing histories / max) ticks.
   */
  private takeDirty(max: number): string[] {
    const out: string[] = [];
    let chunk: StoredHistory[] = [];
    let taken = 0;
    for (const queryId of this.dirty) {
      if (taken >= max) break;
      this.dirty.delete(queryId);
      const h = this.histories.get(queryId);
      if (!h) continue;
      taken++;
      chunk.push({ queryId, state: { ...h.toState(), observedAtMs: this.observedAt.get(queryId) ?? null } });
      if (chunk.length < HISTORY_CHUNK) continue;
      out.push(JSON.stringify(chunk));
      chunk = [];
    }
    if (chunk.length > 0) out.push(JSON.stringify(chunk));
    return out;
  }

  private snapshot(q: QueryInput, lag: QueryLag | undefined, options: HistoryOptions): Snapshot {
    let history = this.histories.get(q.id);
    if (!history) {
      history = new QueryHistory(options);
      this.histories.set(q.id, history);
    } else {
      history.reconfigure(options);
    }
    // The lag poll's reading may be the one already observed (it polls every 5 s): observing it
    // again would record a commit that did not move (a false STALL).
    if (lag && lag.readAtMs > (this.observedAt.get(q.id) ?? -Infinity)) {
      history.observe(lag.readAtMs, q.lastProgressAtMs, lag.partitions);
      this.observedAt.set(q.id, lag.readAtMs);
      this.dirty.add(q.id);
    }
    // The reason a FAILED query failed is in its conditions (the reconciler names the last crash).
    const failed = (q.conditions as Array<{ status?: string; message?: string }> | null)?.find(
      (c) => typeof c.message === 'string' && c.message !== '',
    );
    return {
      lagKnown: lag !== undefined,
      snap: {
        queryId: q.id,
        name: q.name,
        phase: q.phase,
        desiredState: q.desiredState as QuerySnapshot['desiredState'],
        message: failed?.message ?? null,
        lastProgressAtMs: q.lastProgressAtMs,
        crashTimesMs: crashTimesOf(q.crashTimes),
        partitions: lag?.partitions ?? [],
        commits: history.commitWindows(),
        lagSamples: history.lagSamples(),
      },
    };
  }
}

function crashTimesOf(crashTimes: unknown): number[] {
  if (!Array.isArray(crashTimes) || crashTimes.length === 0) return [];
  return (crashTimes as string[]).map((t) => Date.parse(t)).filter(Number.isFinite);
}

/** What a query's gauges are made of: compared with the last report before any string is built. */
interface ReportedGauges {
  readonly recentCrashes: number;
  /** Burrow's per-partition statuses over the default window; null without commit windows. */
  readonly partitions: readonly PartitionEvaluation[] | null;
}

function gaugeInputs(snap: QuerySnapshot, nowMs: number): ReportedGauges {
  let recentCrashes = 0;
  for (const t of snap.crashTimesMs) if (nowMs - t <= RECENT_CRASHES_MS) recentCrashes++;
  if (snap.commits.length === 0) return { recentCrashes, partitions: null };
  // Burrow's status over its default window (10 commits, as the default rules use): the same
  // computation the rules made, memoised per snapshot.
  return {
    recentCrashes,
    partitions: consumerStatusOf(snap, nowMs, { windowSize: DEFAULT_WINDOW_SIZE }).partitions,
  };
}

function sameGauges(a: ReportedGauges, b: ReportedGauges): boolean {
  if (a.recentCrashes !== b.recentCrashes) return false;
  if (a.partitions === null || b.partitions === null) return a.partitions === b.partitions;
  if (a.partitions.length !== b.partitions.length) return false;
  for (let i = 0; i < a.partitions.length; i++) {
    const x = a.partitions[i]!;
    const y = b.partitions[i]!;
    if (x.status !== y.status || x.partition !== y.partition || x.topic !== y.topic) return false;
  }
  return true;
}

function queryGauges(queryId: string, g: ReportedGauges): QueryGauges {
  if (g.partitions === null) return { queryId, recentCrashes: g.recentCrashes, consumerStatus: null };
  let signature = '';
  for (const p of g.partitions) signature += `${p.topic}/${p.partition}=${p.status};`;
  return { queryId, recentCrashes: g.recentCrashes, consumerStatus: signature };
}

function persist(
  dashboardUrl: string,
  writes: AlertWrites,
  rule: RuleInput,
  def: AnyRuleDefinition,
  queryId: string,
  queryName: string,
  existing: AlertInput | undefined,
  state: AlertState,
  transition: string,
  value: number | null,
  figures: Figures,
  nowMs: number,
): void {
  const from = existing?.state ?? 'inactive';
  const id = existing?.id ?? randomUUID();
  writes.transitions.push({
    alertId: id,
    ruleName: rule.name,
    queryName,
    from,
    to: state.phase,
    value,
    figures,
    at: new Date(nowMs).toISOString(),
  });
  if (state.phase === 'inactive') {
    writes.deletes.push(id);
    return;
  }
  const labels: Record<string, string> = {
    ...(rule.labels as Record<string, string>),
    alertname: rule.name,
    query: queryName,
    severity: rule.severity,
  };
  const context = {
    labels,
    value: value ?? '',
    figures: figures as Record<string, string | number | null>,
    forSeconds: rule.forSeconds,
    dashboardUrl,
  };
  const annotations = Object.fromEntries(
    Object.entries(def.annotations).map(([k, t]) => [k, renderTemplate(String(t), context)]),
  );
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  writes.upserts.push({
    id,
    ruleId: rule.id,
    queryId,
    queryName,
    state: state.phase,
    activeAt: iso(state.activeAtMs),
    firedAt: iso(state.firedAtMs),
    resolvedAt: iso(state.resolvedAtMs),
    value,
    figures,
    labels,
    annotations,
    newEpisode: transition === 'pending' || (transition === 'firing' && from !== 'pending'),
  });
}

function stateOf(a: AlertInput | undefined): AlertState {
  if (!a) return INACTIVE;
  return {
    phase: a.state as AlertState['phase'],
    activeAtMs: a.activeAtMs,
    firedAtMs: a.firedAtMs,
    resolvedAtMs: a.resolvedAtMs,
  };
}

export function historyOptions(rules: readonly RuleInput[]): HistoryOptions {
  let windowSize = 10;
  let retentionMs = 3600_000;
  const objectives: number[] = [];
  for (const r of rules) {
    const p = r.params as Record<string, number>;
    if (r.kind === 'consumerStatus') windowSize = Math.max(windowSize, p.windowSize ?? 10);
    if (r.kind === 'sloBurn') {
      retentionMs = Math.max(retentionMs, (p.longWindowSeconds ?? 0) * 1000);
      objectives.push(p.maxLagSeconds ?? 0);
    }
  }
  return { windowSize, sampleRetentionMs: retentionMs, objectives };
}
