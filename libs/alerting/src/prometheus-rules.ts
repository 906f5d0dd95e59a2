// The PrometheusRule the Helm chart ships, generated from the same rule definitions the built-in
// evaluator reads (rule-definitions.ts), so an external Prometheus fires the same alerts under the
// same names. Pure: definitions in, a plain object out (scripts/generate/prometheus-rules.ts writes
// it as YAML into helm/sluice/files/; `promtool check rules` and `promtool test rules` check it).
//
// The definitions' annotation templates speak the evaluator's dialect: besides Prometheus'
// `{{ $labels.x }}` and `{{ $value }}` they use `{{ $for }}`, `{{ $dashboardUrl }}` and figures the
// evaluator computes (`{{ $figures.partition }}` …). Prometheus knows none of those, so each is
// translated here: a rule parameter becomes a literal, the alert's own value becomes `$value`, and
// a figure Prometheus can compute becomes a `query` template over the exported series. A figure
// without a translation is an error, so a new figure in the definitions cannot reach Prometheus as
// an undefined template variable.
import {
  CONSUMER_STATUS_VALUE,
  DEFAULT_RULES,
  METRIC,
  promDuration,
  promqlExpr,
  type AnyRuleDefinition,
} from './rule-definitions';

/** Replaced by the chart with `prometheusRule.dashboardUrl` (the file is not run through `tpl`). */
export const DASHBOARD_URL_PLACEHOLDER = '__SLUICE_DASHBOARD_URL__';
export const PROMETHEUS_RULE_GROUP = 'sluice.alerts';

export interface PrometheusAlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The `spec` of a PrometheusRule, which is also a Prometheus rule file (`groups:`). */
export interface PrometheusRuleSpec {
  readonly groups: readonly { readonly name: string; readonly rules: readonly PrometheusAlertingRule[] }[];
}

/** `{{ with <expr over this query> | query }}…{{ end }}`: a figure computed by Prometheus at
 * notification time. `%q` quotes the query name as a PromQL string. */
function queried(exprWithQueryMatcher: string, render: string): string {
  return `{{ with printf \`${exprWithQueryMatcher}\` $labels.query | query }}${render}{{ end }}`;
}

const QUERY = '{query=%q}';
/** `topic/partition` of the worst partition of `metric` for this query. */
const worstPartition = (metric: string) =>
  queried(
    `topk(1, ${metric}${QUERY})`,
    '{{ with first . }}{{ label "topic" . }}/{{ label "partition" . }}{{ end }}',
  );
const totalLagRecords = queried(
  `sum(${METRIC.lagRecords}${QUERY})`,
  '{{ . | first | value | printf "%.0f" }}',
);
/** Burrow's status name for the alert's value (its severity code). */
const statusName = (): string => {
  const names = Object.entries(CONSUMER_STATUS_VALUE).sort(([, a], [, b]) => a - b);
  const branches = names.map(
    ([name, code], i) => `{{ ${i === 0 ? 'if' : 'else if'} eq $value ${code}.0 }}${name}`,
  );
  return `${branches.join('')}{{ else }}{{ $value }}{{ end }}`;
};

/** What `{{ $figures.<name> }}` becomes in Prometheus for `rule`; undefined: no translation. */
function figure(rule: AnyRuleDefinition, name: string): string | undefined {
  const translations: Readonly<Record<string, string>> = figures(rule);
  return Object.hasOwn(translations, name) ? translations[name] : undefined;
}

/** The figures of `rule`'s kind that Prometheus can state, by name. */
function figures(rule: AnyRuleDefinition): Record<string, string> {
  switch (rule.kind) {
    case 'timeLag':
      return {
        maxLagSeconds: '{{ $value }}',
        threshold: String(rule.params.thresholdSeconds),
        partition: worstPartition(METRIC.lagSeconds),
      };
    case 'recordsLag':
      return {
        maxLagRecords: '{{ $value }}',
        threshold: String(rule.params.thresholdRecords),
        partition: worstPartition(METRIC.lagRecords),
        totalLagRecords,
      };
    case 'consumerStatus':
      return {
        status: statusName(),
        windowSize: String(rule.params.windowSize),
        partition: worstPartition(METRIC.consumerStatus),
        totalLagRecords,
      };
    case 'sloBurn': {
      const p = rule.params;
      const badShare = (windowSeconds: number) =>
        `avg_over_time((max(${METRIC.lagSeconds}${QUERY}) > bool ${p.maxLagSeconds})[${promDuration(windowSeconds)}:])`;
      const percent = (windowSeconds: number) =>
        queried(`100 * ${badShare(windowSeconds)}`, '{{ . | first | value | printf "%.1f" }}');
      return {
        maxLagSeconds: String(p.maxLagSeconds),
        threshold: String(p.burnRate),
        longWindow: promDuration(p.longWindowSeconds),
        shortWindow: promDuration(p.shortWindowSeconds),
        // The expression's value is its left operand: the long window's burn rate.
        longBurnRate: '{{ $value | printf "%.1f" }}',
        shortBurnRate: queried(
          `${badShare(p.shortWindowSeconds)} / ${Math.round((1 - p.target) * 1e9) / 1e9}`,
          '{{ . | first | value | printf "%.1f" }}',
        ),
        longBadPercent: percent(p.longWindowSeconds),
        shortBadPercent: percent(p.shortWindowSeconds),
      };
    }
    case 'queryHealth': {
      const p = rule.params;
      return {
        // The failure message lives in PostgreSQL (the query's status), not in a metric.
        message: `see ${DASHBOARD_URL_PLACEHOLDER}/queries/{{ $labels.query }}`,
        crashes: '{{ $value }}',
        window: promDuration(p.windowSeconds ?? 0),
        // stalled / noProgress: the expression's value is the seconds since the last progress.
        silence: '{{ $value | humanizeDuration }}',
        totalLagRecords,
        lastProgressAt: queried(
          `${METRIC.lastProgress}${QUERY}`,
          '{{ . | first | value | humanizeTimestamp }}',
        ),
      };
    }
  }
}

/** An evaluator annotation template in Prometheus' template language. */
export function prometheusAnnotation(rule: AnyRuleDefinition, template: string): string {
  return template.replace(
    /\{\{\s*\$([A-Za-z]+)(?:\.([A-Za-z0-9_]+))?\s*\}\}/g,
    (whole, root: string, key?: string) => {
      switch (root) {
        case 'labels':
        case 'value':
          return whole;
        case 'for':
          return promDuration(rule.forSeconds);
        case 'dashboardUrl':
          return DASHBOARD_URL_PLACEHOLDER;
        case 'figures': {
          const translated = key === undefined ? undefined : figure(rule, key);
          if (translated === undefined)
            throw new Error(`rule ${rule.name}: no Prometheus translation for {{ $figures.${key ?? ''} }}`);
          return translated;
        }
        default:
          throw new Error(`rule ${rule.name}: unknown template variable ${whole}`);
      }
    },
  );
}

export function prometheusAlertingRule(rule: AnyRuleDefinition): PrometheusAlertingRule {
  return {
    alert: rule.name,
    expr: promqlExpr(rule),
    ...(rule.forSeconds > 0 ? { for: promDuration(rule.forSeconds) } : {}),
    labels: { ...rule.labels, severity: rule.severity },
    annotations: {
      summary: prometheusAnnotation(rule, rule.annotations.summary),
      description: prometheusAnnotation(rule, rule.annotations.description),
      dashboard: prometheusAnnotation(rule, rule.annotations.dashboard),
    },
  };
}

/** The PrometheusRule spec (a Prometheus rule file) of `rules`, the default set unless given. */
export function prometheusRuleSpec(rules: readonly AnyRuleDefinition[] = DEFAULT_RULES): PrometheusRuleSpec {
  const names = new Set<string>();
  for (const r of rules) {
    if (names.has(r.name)) throw new Error(`two rules are named ${r.name}`);
    names.add(r.name);
  }
  return { groups: [{ name: PROMETHEUS_RULE_GROUP, rules: rules.map(prometheusAlertingRule) }] };
}
