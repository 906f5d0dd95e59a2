// Copies the Grafana dashboards (grafana/*.json, their source) into helm/sluice/files/grafana/, where
// the chart can read them (Helm reads only files inside the chart) and ships them as ConfigMaps.
// `--check` writes nothing and exits 1 when the chart's copies differ or are missing or extra.
// Run: npx tsx scripts/generate/chart-dashboards.ts
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const DASHBOARD_SOURCE_DIR = path.join(ROOT, 'grafana');
export const CHART_DASHBOARD_DIR = path.join(ROOT, 'helm/sluice/files/grafana');

const jsonFiles = (dir: string) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];

/** File name → text of every dashboard, as the chart must hold them. */
export function wantedChartDashboards(): Map<string, string> {
  return new Map(
    jsonFiles(DASHBOARD_SOURCE_DIR).map((f) => [
      f,
      fs.readFileSync(path.join(DASHBOARD_SOURCE_DIR, f), 'utf8'),
    ]),
  );
}

/** Differences between the chart's copies and the sources, one line each; empty when in sync. */
export function chartDashboardDrift(): string[] {
  const want = wantedChartDashboards();
  const have = jsonFiles(CHART_DASHBOARD_DIR);
  const drift = have.filter((f) => !want.has(f)).map((f) => `${f}: in the chart, not in grafana/`);
  for (const [f, text] of want) {
    const p = path.join(CHART_DASHBOARD_DIR, f);
    if (!fs.existsSync(p)) drift.push(`${f}: missing from the chart`);
    else if (fs.readFileSync(p, 'utf8') !== text) drift.push(`${f}: differs from grafana/${f}`);
  }
  return drift;
}

function main(argv: string[]): void {
  if (argv.includes('--check')) {
    const drift = chartDashboardDrift();
    if (drift.length) {
      console.error(`${drift.join('\n')}\nrun: npx tsx scripts/generate/chart-dashboards.ts`);
      process.exit(1);
    }
    return;
  }
  fs.mkdirSync(CHART_DASHBOARD_DIR, { recursive: true });
  const want = wantedChartDashboards();
  for (const f of jsonFiles(CHART_DASHBOARD_DIR))
    if (!want.has(f)) fs.rmSync(path.join(CHART_DASHBOARD_DIR, f));
  for (const [f, text] of want) fs.writeFileSync(path.join(CHART_DASHBOARD_DIR, f), text);
  console.log(`copied ${want.size} dashboards into ${path.relative(process.cwd(), CHART_DASHBOARD_DIR)}`);
}

if (require.main === module) main(process.argv.slice(2));
