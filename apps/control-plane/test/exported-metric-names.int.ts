// Every metric the Grafana dashboards (grafana/*.json) and the generated alert rules
// (helm/sluice/files/prometheus-rules.yaml) query must be one a real control plane exports: the
// names come from scraping /metrics of a booted control plane, the queries are parsed with
// Prometheus' own PromQL grammar (@prometheus-io/lezer-promql), so a renamed metric or a typo
// fails here rather than as an empty panel or an alert that never fires.
import fs from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROOT, startTestApp, type TestApp } from './support/test-app';

/** Series Prometheus makes itself from the alert rules the chart ships, not scraped from Sluice. */
const PROMETHEUS_OWN = new Set(['ALERTS', 'ALERTS_FOR_STATE']);
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Sample values for the Grafana variables a panel may use, so the query parses as PromQL. */
const GRAFANA_VARIABLES: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
  query: 'sample-query',
  trigger: '10',
};

function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = GRAFANA_VARIABLES[name];
    if (value === undefined) throw new Error(`unknown Grafana variable ${whole} in ${expr}`);
    return value;
  });
}

/** The metric names an expression selects; throws on a syntax error. */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError)
        errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.to + 10))}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        names.push(expr.slice(node.from, node.to));
    },
  });
  if (errors.length) throw new Error(`PromQL syntax error in ${expr}: ${errors.join(', ')}`);
  return names;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  title: string;
  panels: Panel[];
  templating?: { list: { name: string; type: string; definition?: string }[] };
  annotations?: { list: { name: string; expr?: string }[] };
}

/** `[where, PromQL]` of every query of every dashboard: panel targets, annotations, variables. */
function dashboardQueries(): [string, string][] {
  const dir = path.join(ROOT, 'grafana');
  const out: [string, string][] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Dashboard;
    const walk = (panels: Panel[]) => {
      for (const p of panels) {
        for (const t of p.targets ?? [])
          if (t.expr) out.push([`${file}: ${p.title}`, substituteGrafanaVariables(t.expr)]);
        walk(p.panels ?? []);
      }
    };
    walk(d.panels);
    for (const a of d.annotations?.list ?? [])
      if (a.expr) out.push([`${file}: annotation ${a.name}`, substituteGrafanaVariables(a.expr)]);
    for (const v of d.templating?.list ?? []) {
      if (v.type !== 'query' || !v.definition) continue;
      // label_values(<series selector>, <label>) is Grafana's, not PromQL: check its selector.
      const m = /^label_values\((.+),\s*\w+\)$/.exec(v.definition);
      if (!m) throw new Error(`${file}: variable ${v.name} is not label_values(selector, label)`);
      out.push([`${file}: variable ${v.name}`, m[1]!]);
    }
  }
  return out;
}

/** `[where, PromQL]` of every rule expression and of every query inside its annotation templates. */
function ruleQueries(): [string, string][] {
  const file = parseYaml(
    fs.readFileSync(path.join(ROOT, 'helm/sluice/files/prometheus-rules.yaml'), 'utf8'),
  ) as {
    groups: { rules: { alert: string; expr: string; annotations: Record<string, string> }[] }[];
  };
  const out: [string, string][] = [];
  for (const rule of file.groups.flatMap((g) => g.rules)) {
    out.push([`${rule.alert}: expr`, rule.expr]);
    for (const [name, text] of Object.entries(rule.annotations))
      for (const m of text.matchAll(/printf `([^`]+)`/g))
        out.push([`${rule.alert}: annotation ${name}`, m[1]!.replaceAll('%q', '"sample-query"')]);
  }
  return out;
}

let t: TestApp;
let exported: Set<string>;

beforeAll(async () => {
  t = await startTestApp();
  const res = await fetch(`${t.base}/metrics`, { headers: { Authorization: `Bearer ${t.token}` } });
  expect(res.status).toBe(200);
  // Every registered metric has a TYPE line, also before its first sample.
  exported = new Set([...(await res.text()).matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
});

afterAll(async () => {
  await t?.close();
});

const isExported = (name: string) =>
  PROMETHEUS_OWN.has(name) || exported.has(name) || exported.has(name.replace(HISTOGRAM_SUFFIX, ''));

describe('metrics named by the dashboards and alert rules', () => {
  it('the scrape lists the query metrics (sanity of the scrape itself)', () => {
    expect(exported).toContain('sluice_query_lag_seconds');
    expect(exported).toContain('sluice_query_batch_duration_seconds');
  });

  it('every Grafana query parses and names only exported metrics', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    const missing = queries.flatMap(([where, expr]) =>
      metricNames(expr)
        .filter((n) => !isExported(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(missing).toEqual([]);
  });

  it('every alert rule expression and annotation query parses and names only exported metrics', () => {
    const queries = ruleQueries();
    expect(queries.length).toBeGreaterThan(10);
    const missing = queries.flatMap(([where, expr]) =>
      metricNames(expr)
        .filter((n) => !isExported(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(missing).toEqual([]);
  });

  it('a misspelt metric and a syntax error are caught (the check can fail)', () => {
    expect(metricNames('sum by (query) (rate(sluice_query_lag_secondz[5m]))')).toEqual([
      'sluice_query_lag_secondz',
    ]);
    expect(isExported('sluice_query_lag_secondz')).toBe(false);
    expect(() => metricNames('sum by (query) (sluice_query_lag_seconds')).toThrow('PromQL syntax error');
  });
});
