import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULES,
  METRIC,
  promDuration,
  promqlExpr,
  renderTemplate,
  RULE_KINDS,
  defaultRule,
} from './index';

describe('default rule set', () => {
  it('has unique CamelCase names and covers every kind', () => {
    const names = DEFAULT_RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Z][A-Za-z0-9]+$/);
    expect(new Set(DEFAULT_RULES.map((r) => r.kind))).toEqual(new Set(RULE_KINDS));
  });

  it('every rule names exported metrics and carries its severity as a label', () => {
    const exported = new Set<string>(Object.values(METRIC));
    for (const r of DEFAULT_RULES) {
      expect(r.metric.metrics.length).toBeGreaterThan(0);
      for (const m of r.metric.metrics) expect(exported.has(m)).toBe(true);
      expect(r.labels.severity).toBe(r.severity);
      expect(r.annotations.dashboard).toContain('{{ $labels.query }}');
    }
  });

  it('PromQL expressions state each condition over the exported series', () => {
    expect(promqlExpr(defaultRule('SluiceQueryTimeLagHigh')!)).toBe(
      'max by (query) (sluice_query_lag_seconds) > 300',
    );
    expect(promqlExpr(defaultRule('SluiceConsumerStatusError')!)).toBe(
      'max by (query) (sluice_consumer_status) >= 4',
    );
    expect(promqlExpr(defaultRule('SluiceConsumerStatusWarning')!)).toBe(
      'max by (query) (sluice_consumer_status) == 2',
    );
    expect(promqlExpr(defaultRule('SluiceLagSloBurnFast')!)).toBe(
      '(avg_over_time((max by (query) (sluice_query_lag_seconds) > bool 60)[1h:]) / 0.01 > 14.4) and ' +
        '(avg_over_time((max by (query) (sluice_query_lag_seconds) > bool 60)[5m:]) / 0.01 > 14.4)',
    );
    expect(promqlExpr(defaultRule('SluiceQueryFailed')!)).toBe('sluice_query_phase{phase="FAILED"} == 1');
  });

  it('promDuration uses the largest whole unit', () => {
    expect([promDuration(300), promDuration(3600), promDuration(90), promDuration(0)]).toEqual([
      '5m',
      '1h',
      '90s',
      '0s',
    ]);
  });

  it('renderTemplate fills labels, value, figures, for and the dashboard URL; unknowns are empty', () => {
    const out = renderTemplate(
      '{{ $labels.query }} {{ $value }} {{ $figures.partition }} {{ $for }} {{ $dashboardUrl }}/x {{ $labels.nope }}|',
      {
        labels: { query: 'q1' },
        value: 42,
        figures: { partition: 'clicks/3' },
        forSeconds: 300,
        dashboardUrl: 'http://dash',
      },
    );
    expect(out).toBe('q1 42 clicks/3 5m http://dash/x |');
  });
});
