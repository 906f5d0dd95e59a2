import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_URL_PLACEHOLDER,
  prometheusAlertingRule,
  prometheusAnnotation,
  prometheusRuleSpec,
} from './prometheus-rules';
import {
  DEFAULT_RULES,
  defaultRule,
  promDuration,
  promqlExpr,
  type AnyRuleDefinition,
} from './rule-definitions';

const rule = (name: string): AnyRuleDefinition => {
  const r = defaultRule(name);
  if (!r) throw new Error(`no default rule ${name}`);
  return r;
};

describe('prometheusRuleSpec', () => {
  it('holds one alerting rule per definition, named, with its PromQL, for and labels', () => {
    const [group] = prometheusRuleSpec().groups;
    expect(group!.rules.map((r) => r.alert)).toEqual(DEFAULT_RULES.map((r) => r.name));
    for (const [i, def] of DEFAULT_RULES.entries()) {
      const r = group!.rules[i]!;
      expect(r.expr).toBe(promqlExpr(def));
      expect(r.labels.severity).toBe(def.severity);
      expect(r.for).toBe(def.forSeconds > 0 ? promDuration(def.forSeconds) : undefined);
    }
  });

  it("leaves only Prometheus' own template variables in the annotations", () => {
    for (const r of prometheusRuleSpec().groups[0]!.rules)
      for (const text of Object.values(r.annotations)) {
        const variables = [...text.matchAll(/\$([A-Za-z]+)/g)].map((m) => m[1]);
        for (const v of variables) expect(['labels', 'value'], `${r.alert}: $${v}`).toContain(v);
      }
  });

  it('refuses two rules of one name', () => {
    const r = rule('SluiceQueryFailed');
    expect(() => prometheusRuleSpec([r, r])).toThrow('two rules are named SluiceQueryFailed');
  });
});

describe('prometheusAnnotation', () => {
  it('turns parameters into literals, the alert value into $value and the dashboard URL into the placeholder', () => {
    const r = rule('SluiceQueryTimeLagHigh');
    expect(
      prometheusAnnotation(r, '{{ $figures.maxLagSeconds }} > {{ $figures.threshold }} for {{ $for }}'),
    ).toBe('{{ $value }} > 300 for 5m');
    expect(prometheusAnnotation(r, '{{ $dashboardUrl }}/queries/{{ $labels.query }}')).toBe(
      `${DASHBOARD_URL_PLACEHOLDER}/queries/{{ $labels.query }}`,
    );
  });

  it('computes figures Prometheus can compute with a query over the exported series of this query', () => {
    const text = prometheusAnnotation(rule('SluiceQueryRecordsLagHigh'), '{{ $figures.totalLagRecords }}');
    expect(text).toBe(
      '{{ with printf `sum(sluice_query_lag_records{query=%q})` $labels.query | query }}{{ . | first | value | printf "%.0f" }}{{ end }}',
    );
  });

  it('names a Burrow status from its code', () => {
    const text = prometheusAnnotation(rule('SluiceConsumerStatusError'), '{{ $figures.status }}');
    expect(text).toContain('{{ else if eq $value 4.0 }}STOP');
    expect(text).toContain('{{ else if eq $value 6.0 }}REWIND');
  });

  it('refuses a figure it has no translation for, so none reaches Prometheus undefined', () => {
    expect(() => prometheusAnnotation(rule('SluiceQueryFailed'), '{{ $figures.nonsense }}')).toThrow(
      'rule SluiceQueryFailed: no Prometheus translation for {{ $figures.nonsense }}',
    );
    expect(() => prometheusAnnotation(rule('SluiceQueryFailed'), '{{ $externalURL }}')).toThrow(
      'unknown template variable',
    );
  });

  it('omits for when a rule fires at once', () => {
    expect(prometheusAlertingRule(rule('SluiceQueryFailed'))).not.toHaveProperty('for');
  });
});
