// The ONE definition of Sluice's alert rules: the default rule set the control plane writes to
// PostgreSQL on deploy (and evaluates itself), and the source from which the PrometheusRule YAML
// and the Grafana panels are generated. Pure data and pure helpers, no framework imports.
//
// Every rule names the Prometheus metric the control plane exports for it (`metric`) and the
// PromQL expression that states the same condition over the exported series (`promqlExpr`), so
// an external Prometheus and the built-in evaluator agree on what each alert means. The names of
// the rules, their kinds and the metric names below are a stable interface: renaming one breaks
// generated dashboards and alert routing downstream.
import type { PartitionStatus } from './partition-status';
import { STATUS_SEVERITY } from './partition-status';

export type RuleKind = 'timeLag' | 'recordsLag' | 'consumerStatus' | 'sloBurn' | 'queryHealth';
export const RULE_KINDS: readonly RuleKind[] = [
  'timeLag',
  'recordsLag',
  'consumerStatus',
  'sloBurn',
  'queryHealth',
];

export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** What a `queryHealth` rule checks (one alert per check and query). */
export type HealthCheck = 'failed' | 'crashLooping' | 'stalled' | 'noProgress';
export const HEALTH_CHECKS: readonly HealthCheck[] = ['failed', 'crashLooping', 'stalled', 'noProgress'];

/** Parameters of each kind; the evaluator and the PromQL generator read the same fields. */
export interface TimeLagParams {
  /** Fires when the age of the oldest uncommitted record, max over partitions, is above this. */
  readonly thresholdSeconds: number;
}
export interface RecordsLagParams {
  /** Fires when the records behind, max over partitions, are above this. */
  readonly thresholdRecords: number;
}
export interface ConsumerStatusParams {
  /** Fires when Burrow's group status (worst partition) is one of these. */
  readonly statuses: readonly Exclude<PartitionStatus, 'OK'>[];
  /** Burrow's `intervals`: number of offset commits in each partition's sliding window. */
  readonly windowSize: number;
  /** Burrow's `minimum-complete`: partitions with a less-filled window count as OK. */
  readonly minimumComplete: number;
}
export interface SloBurnParams {
  /** The lag objective: lag at or below `maxLagSeconds` for `target` of the time. */
  readonly maxLagSeconds: number;
  readonly target: number;
  /** Both windows must burn strictly faster than `burnRate` (SRE workbook, multiwindow). */
  readonly longWindowSeconds: number;
  readonly shortWindowSeconds: number;
  readonly burnRate: number;
}
export interface QueryHealthParams {
  readonly check: HealthCheck;
  /** crashLooping: abnormal exits within `windowSeconds` at or above this count. */
  readonly crashes?: number;
  /** crashLooping: the window the crashes are counted over. */
  readonly windowSeconds?: number;
  /** stalled / noProgress: seconds since the last progress event above this. */
  readonly silenceSeconds?: number;
}

export interface KindParams {
  readonly timeLag: TimeLagParams;
  readonly recordsLag: RecordsLagParams;
  readonly consumerStatus: ConsumerStatusParams;
  readonly sloBurn: SloBurnParams;
  readonly queryHealth: QueryHealthParams;
}

/** Annotation templates: `{{ $labels.query }}` and `{{ $value }}` as in Prometheus, plus the
 * evaluator's figures (`{{ $figures.maxLagSeconds }}` …) and `{{ $dashboardUrl }}`. */
export interface AnnotationTemplates {
  readonly summary: string;
  readonly description: string;
  /** Link to the query in the dashboard; `{{ $dashboardUrl }}` is SLUICE_DASHBOARD_URL. */
  readonly dashboard: string;
}

/** The exported metric a rule corresponds to, for the PrometheusRule/Grafana generator. */
export interface MetricSemantics {
  /** Exported series the condition is computed from (control plane /metrics). */
  readonly metrics: readonly string[];
  /** How the per-partition/per-query series are reduced to one value per query. */
  readonly aggregation: 'max' | 'value' | 'ratio';
  /** One sentence: what the condition means over those series. */
  readonly semantics: string;
}

export interface RuleDefinition<K extends RuleKind = RuleKind> {
  /** Unique; also the `alertname` label. Prometheus-style CamelCase. */
  readonly name: string;
  readonly kind: K;
  readonly params: KindParams[K];
  /** Prometheus' `for`, in seconds. */
  readonly forSeconds: number;
  readonly severity: Severity;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: AnnotationTemplates;
  readonly metric: MetricSemantics;
}

export type AnyRuleDefinition = { [K in RuleKind]: RuleDefinition<K> }[RuleKind];

// ── Metric names the control plane exports (apps/control-plane/src/metrics/) ──────────────────
export const METRIC = {
  /** Gauge {query,topic,partition}: estimated age of the oldest uncommitted record (lag service). */
  lagSeconds: 'sluice_query_lag_seconds',
  /** Gauge {query,topic,partition}: log-end minus committed offset (lag service). */
  lagRecords: 'sluice_query_lag_records',
  /** Gauge {query,topic,partition}: Burrow status as its severity code (CONSUMER_STATUS_VALUE). */
  consumerStatus: 'sluice_consumer_status',
  /** Gauge {query,phase}: 1 for the query's current phase, 0 for the others. */
  queryPhase: 'sluice_query_phase',
  /** Gauge {query}: abnormal exits recorded in the reconciler's crash window. */
  recentCrashes: 'sluice_query_recent_crashes',
  /** Gauge {query}: Unix time (s) of the last progress event; absent before the first. */
  lastProgress: 'sluice_query_last_progress_timestamp_seconds',
  /** Gauge {state,rule,query}: 1 per alert known to the built-in evaluator. */
  alerts: 'sluice_alerts',
  /** Counter {receiver,outcome}: notification delivery attempts' outcomes. */
  notifications: 'sluice_alert_notifications_total',
} as const;

/** `sluice_consumer_status` values: Burrow's severity codes (protocol.StatusConstant). */
export const CONSUMER_STATUS_VALUE: Readonly<Record<PartitionStatus, number>> = STATUS_SEVERITY;

const DASHBOARD = '{{ $dashboardUrl }}/queries/{{ $labels.query }}';
const labels = (severity: Severity, extra: Record<string, string> = {}) => ({
  severity,
  team: 'streaming',
  ...extra,
});

/** The default rule set, created in PostgreSQL on deploy (kept, never overwritten, once there). */
export const DEFAULT_RULES: readonly AnyRuleDefinition[] = [
  {
    name: 'SluiceQueryTimeLagHigh',
    kind: 'timeLag',
    params: { thresholdSeconds: 300 },
    forSeconds: 300,
    severity: 'warning',
    labels: labels('warning'),
    annotations: {
      summary: 'Query {{ $labels.query }} is {{ $value }} s behind',
      description:
        'The oldest uncommitted record of {{ $labels.query }} is {{ $figures.maxLagSeconds }} s old ' +
        '(partition {{ $figures.partition }}, threshold {{ $figures.threshold }} s) for at least {{ $for }}.',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.lagSeconds],
      aggregation: 'max',
      semantics: 'max over partitions of sluice_query_lag_seconds above thresholdSeconds',
    },
  },
  {
    name: 'SluiceQueryRecordsLagHigh',
    kind: 'recordsLag',
    params: { thresholdRecords: 1_000_000 },
    forSeconds: 300,
    severity: 'warning',
    labels: labels('warning'),
    annotations: {
      summary: 'Query {{ $labels.query }} is {{ $value }} records behind',
      description:
        '{{ $labels.query }} has {{ $figures.maxLagRecords }} records to read on partition ' +
        '{{ $figures.partition }} ({{ $figures.totalLagRecords }} in total, threshold {{ $figures.threshold }}).',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.lagRecords],
      aggregation: 'max',
      semantics: 'max over partitions of sluice_query_lag_records above thresholdRecords',
    },
  },
  {
    name: 'SluiceConsumerStatusError',
    kind: 'consumerStatus',
    params: { statuses: ['STOP', 'STALL', 'REWIND'], windowSize: 10, minimumComplete: 0 },
    forSeconds: 0,
    severity: 'critical',
    labels: labels('critical'),
    annotations: {
      summary: 'Query {{ $labels.query }} consumer is {{ $figures.status }}',
      description:
        "Burrow's evaluation of {{ $labels.query }} over its last {{ $figures.windowSize }} commits: " +
        '{{ $figures.status }} on partition {{ $figures.partition }} (lag {{ $figures.totalLagRecords }} records).',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.consumerStatus],
      aggregation: 'max',
      semantics: 'worst partition status code >= STOP (4): STOP 4, STALL 5, REWIND 6',
    },
  },
  {
    name: 'SluiceConsumerStatusWarning',
    kind: 'consumerStatus',
    params: { statuses: ['WARNING'], windowSize: 10, minimumComplete: 0 },
    forSeconds: 300,
    severity: 'warning',
    labels: labels('warning'),
    annotations: {
      summary: 'Query {{ $labels.query }} is not keeping up (lag grew across the window)',
      description:
        'The lag of {{ $labels.query }} did not decrease across its last {{ $figures.windowSize }} commits ' +
        '(partition {{ $figures.partition }}, lag {{ $figures.totalLagRecords }} records).',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.consumerStatus],
      aggregation: 'max',
      semantics: 'worst partition status code == WARNING (2)',
    },
  },
  {
    name: 'SluiceLagSloBurnFast',
    kind: 'sloBurn',
    params: {
      maxLagSeconds: 60,
      target: 0.99,
      longWindowSeconds: 3600,
      shortWindowSeconds: 300,
      burnRate: 14.4,
    },
    forSeconds: 120,
    severity: 'critical',
    labels: labels('critical', { slo: 'lag' }),
    annotations: {
      summary: 'Query {{ $labels.query }} burns its lag error budget {{ $value }}x too fast',
      description:
        '{{ $labels.query }} was above its {{ $figures.maxLagSeconds }} s lag objective ' +
        '{{ $figures.longBadPercent }} % of the last {{ $figures.longWindow }} and ' +
        '{{ $figures.shortBadPercent }} % of the last {{ $figures.shortWindow }} (burn rate ' +
        '{{ $figures.longBurnRate }}/{{ $figures.shortBurnRate }}, threshold {{ $figures.threshold }}).',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.lagSeconds],
      aggregation: 'ratio',
      semantics:
        'share of time max(sluice_query_lag_seconds) > maxLagSeconds over both windows, divided by (1 - target), above burnRate',
    },
  },
  {
    name: 'SluiceLagSloBurnSlow',
    kind: 'sloBurn',
    params: {
      maxLagSeconds: 60,
      target: 0.99,
      longWindowSeconds: 6 * 3600,
      shortWindowSeconds: 1800,
      burnRate: 6,
    },
    forSeconds: 900,
    severity: 'warning',
    labels: labels('warning', { slo: 'lag' }),
    annotations: {
      summary: 'Query {{ $labels.query }} burns its lag error budget {{ $value }}x too fast',
      description:
        '{{ $labels.query }} was above its {{ $figures.maxLagSeconds }} s lag objective ' +
        '{{ $figures.longBadPercent }} % of the last {{ $figures.longWindow }} and ' +
        '{{ $figures.shortBadPercent }} % of the last {{ $figures.shortWindow }} (burn rate ' +
        '{{ $figures.longBurnRate }}/{{ $figures.shortBurnRate }}, threshold {{ $figures.threshold }}).',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.lagSeconds],
      aggregation: 'ratio',
      semantics:
        'share of time max(sluice_query_lag_seconds) > maxLagSeconds over both windows, divided by (1 - target), above burnRate',
    },
  },
  {
    name: 'SluiceQueryFailed',
    kind: 'queryHealth',
    params: { check: 'failed' },
    forSeconds: 0,
    severity: 'critical',
    labels: labels('critical'),
    annotations: {
      summary: 'Query {{ $labels.query }} FAILED',
      description: '{{ $labels.query }} is FAILED: {{ $figures.message }}',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.queryPhase],
      aggregation: 'value',
      semantics: 'sluice_query_phase{phase="FAILED"} == 1',
    },
  },
  {
    name: 'SluiceQueryCrashLooping',
    kind: 'queryHealth',
    params: { check: 'crashLooping', crashes: 3, windowSeconds: 600 },
    forSeconds: 0,
    severity: 'warning',
    labels: labels('warning'),
    annotations: {
      summary: 'Query {{ $labels.query }} is crash looping',
      description:
        '{{ $labels.query }} exited abnormally {{ $figures.crashes }} times in the last {{ $figures.window }}.',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.recentCrashes],
      aggregation: 'value',
      semantics: 'sluice_query_recent_crashes >= crashes',
    },
  },
  {
    name: 'SluiceQueryStalled',
    kind: 'queryHealth',
    params: { check: 'stalled', silenceSeconds: 120 },
    forSeconds: 60,
    severity: 'critical',
    labels: labels('critical'),
    annotations: {
      summary:
        'Query {{ $labels.query }} makes no progress while {{ $figures.totalLagRecords }} records wait',
      description:
        'No progress event from {{ $labels.query }} for {{ $figures.silence }} while its lag is ' +
        '{{ $figures.totalLagRecords }} records.',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.lastProgress, METRIC.lagRecords],
      aggregation: 'value',
      semantics: 'time() - last progress > silenceSeconds and max over partitions of lag records > 0',
    },
  },
  {
    name: 'SluiceQueryNoProgress',
    kind: 'queryHealth',
    params: { check: 'noProgress', silenceSeconds: 900 },
    forSeconds: 0,
    severity: 'warning',
    labels: labels('warning'),
    annotations: {
      summary: 'No progress event from query {{ $labels.query }} for {{ $figures.silence }}',
      description:
        '{{ $labels.query }} should be RUNNING but sent no progress event for {{ $figures.silence }} ' +
        '(last: {{ $figures.lastProgressAt }}).',
      dashboard: DASHBOARD,
    },
    metric: {
      metrics: [METRIC.lastProgress, METRIC.queryPhase],
      aggregation: 'value',
      semantics: 'time() - last progress > silenceSeconds while the query is desired RUNNING',
    },
  },
];

/** `300` → `5m`, `3600` → `1h`, `90` → `90s`: Prometheus duration syntax. */
export function promDuration(seconds: number): string {
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** The PromQL expression over the control plane's exported series that states the same
 * condition as the built-in evaluator, one series per firing query (label `query`). */
export function promqlExpr(rule: AnyRuleDefinition): string {
  switch (rule.kind) {
    case 'timeLag':
      return `max by (query) (${METRIC.lagSeconds}) > ${rule.params.thresholdSeconds}`;
    case 'recordsLag':
      return `max by (query) (${METRIC.lagRecords}) > ${rule.params.thresholdRecords}`;
    case 'consumerStatus': {
      const codes = rule.params.statuses.map((s) => CONSUMER_STATUS_VALUE[s]).sort((a, b) => a - b);
      return consumerStatusExpr(codes);
    }
    case 'sloBurn': {
      const p = rule.params;
      const bad = `(max by (query) (${METRIC.lagSeconds}) > bool ${p.maxLagSeconds})`;
      const burn = (windowSeconds: number) =>
        `avg_over_time(${bad}[${promDuration(windowSeconds)}:]) / ${round(1 - p.target)}`;
      return `(${burn(p.longWindowSeconds)} > ${p.burnRate}) and (${burn(p.shortWindowSeconds)} > ${p.burnRate})`;
    }
    case 'queryHealth':
      return healthExpr(rule.params);
  }
}

function consumerStatusExpr(codes: readonly number[]): string {
  const worst = `max by (query) (${METRIC.consumerStatus})`;
  if (codes.length === 1) return `${worst} == ${codes[0]}`;
  // Burrow's codes are ordered by severity; contiguous sets become one comparison.
  const contiguous = codes.every((c, i) => i === 0 || c === codes[i - 1]! + 1);
  if (contiguous && codes[codes.length - 1] === CONSUMER_STATUS_VALUE.REWIND)
    return `${worst} >= ${codes[0]}`;
  return codes.map((c) => `${worst} == ${c}`).join(' or ');
}

function healthExpr(p: QueryHealthParams): string {
  const silence = `time() - ${METRIC.lastProgress} > ${p.silenceSeconds ?? 0}`;
  switch (p.check) {
    case 'failed':
      return `${METRIC.queryPhase}{phase="FAILED"} == 1`;
    case 'crashLooping':
      return `${METRIC.recentCrashes} >= ${p.crashes ?? 1}`;
    case 'stalled':
      return `(${silence}) and on (query) (max by (query) (${METRIC.lagRecords}) > 0)`;
    case 'noProgress':
      return `(${silence}) unless on (query) (${METRIC.queryPhase}{phase="STOPPED"} == 1)`;
  }
}

function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/** Renders `{{ $labels.x }}`, `{{ $value }}`, `{{ $figures.x }}`, `{{ $for }}` and
 * `{{ $dashboardUrl }}`; unknown references render as an empty string (as Prometheus' templates
 * render missing labels). */
export function renderTemplate(
  template: string,
  context: {
    readonly labels: Readonly<Record<string, string>>;
    readonly value?: string | number;
    readonly figures?: Readonly<Record<string, string | number | null>>;
    readonly forSeconds?: number;
    readonly dashboardUrl?: string;
  },
): string {
  return template.replace(
    /\{\{\s*\$([A-Za-z]+)(?:\.([A-Za-z0-9_]+))?\s*\}\}/g,
    (_m, root: string, key?: string) => {
      switch (root) {
        case 'labels':
          return key ? (context.labels[key] ?? '') : '';
        case 'figures': {
          const v = key ? context.figures?.[key] : undefined;
          return v === undefined || v === null ? '' : String(v);
        }
        case 'value':
          return context.value === undefined ? '' : String(context.value);
        case 'for':
          return context.forSeconds === undefined ? '' : promDuration(context.forSeconds);
        case 'dashboardUrl':
          return context.dashboardUrl ?? '';
        default:
          return '';
      }
    },
  );
}

/** Looks a default rule up by name (for the generator and tests). */
export function defaultRule(name: string): AnyRuleDefinition | undefined {
  return DEFAULT_RULES.find((r) => r.name === name);
}
