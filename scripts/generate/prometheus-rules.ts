// Writes helm/sluice/files/prometheus-rules.yaml from libs/alerting's rule definitions (the chart's
// PrometheusRule inserts it as its spec). `--check` writes nothing and exits 1 when the committed
// file differs from what the definitions produce. Run: npx tsx scripts/generate/prometheus-rules.ts
import fs from 'node:fs';
import path from 'node:path';
import { renderPrometheusRulesFile } from './prometheus-rules-file';

export const PROMETHEUS_RULES_FILE = path.resolve(__dirname, '../../helm/sluice/files/prometheus-rules.yaml');

function main(argv: string[]): void {
  const want = renderPrometheusRulesFile();
  if (argv.includes('--check')) {
    const have = fs.existsSync(PROMETHEUS_RULES_FILE) ? fs.readFileSync(PROMETHEUS_RULES_FILE, 'utf8') : '';
    if (have !== want) {
      console.error(`${PROMETHEUS_RULES_FILE} is out of date: npx tsx scripts/generate/prometheus-rules.ts`);
      process.exit(1);
    }
    return;
  }
  fs.writeFileSync(PROMETHEUS_RULES_FILE, want);
  console.log(`wrote ${path.relative(process.cwd(), PROMETHEUS_RULES_FILE)}`);
}

if (require.main === module) main(process.argv.slice(2));
