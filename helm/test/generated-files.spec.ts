// Files the chart holds that are generated from sources elsewhere in the repository must equal what
// their generators produce now, so a change to a rule definition or a dashboard cannot ship stale.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartDashboardDrift } from '../../scripts/generate/chart-dashboards';
import { PROMETHEUS_RULES_FILE } from '../../scripts/generate/prometheus-rules';
import { renderPrometheusRulesFile } from '../../scripts/generate/prometheus-rules-file';

describe('generated chart files', () => {
  it('files/prometheus-rules.yaml is what libs/alerting rule definitions generate', () => {
    expect(
      fs.readFileSync(PROMETHEUS_RULES_FILE, 'utf8'),
      'out of date: npx tsx scripts/generate/prometheus-rules.ts',
    ).toBe(renderPrometheusRulesFile());
  });

  it('files/grafana/ holds exactly the dashboards of grafana/', () => {
    expect(chartDashboardDrift(), 'out of date: npx tsx scripts/generate/chart-dashboards.ts').toEqual([]);
  });
});
