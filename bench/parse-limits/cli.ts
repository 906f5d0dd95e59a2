// `npx tsx bench/parse-limits/cli.ts [--runs 20] [--json]` — how long compileSpec takes on the
// worst inputs the limits (libs/query-plan/src/limits.ts) let through, one shape per limit, and on
// the attacks they refuse. The figure that matters is the max wall time: compileSpec runs on the
// control plane's event loop, so it is how long one spec can hold every other request.
// Wall and CPU time are both reported: on a shared box the wall time includes waiting for a core.
import { parseArgs } from 'node:util';
import { compileSpec } from '../../libs/query-plan/src/index';
import { attacks, worstCases, type BenchCase } from './cases';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } },
});
const RUNS = Number(values.runs);
const BUDGET_MS = 50;

interface CaseResult {
  name: string;
  probes: string;
  bytes: number;
  outcome: string;
  wallMs: { median: number; p90: number; max: number };
  cpuMsMedian: number;
}

function measure(c: BenchCase): CaseResult {
  const wall: number[] = [];
  const cpu: number[] = [];
  let outcome = '';
  compileSpec(c.text); // warm-up: the first call pays for JIT compilation, once per process
  for (let i = 0; i < RUNS; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const result = compileSpec(c.text);
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
    outcome = result.ok ? 'compiled' : `${result.errors.length} error(s): ${result.errors[0]?.message ?? ''}`;
  }
  return {
    name: c.name,
    probes: c.probes,
    bytes: Buffer.byteLength(c.text),
    outcome: outcome.length > 140 ? `${outcome.slice(0, 137)}...` : outcome,
    wallMs: { median: quantile(wall, 0.5), p90: quantile(wall, 0.9), max: round(Math.max(...wall)) },
    cpuMsMedian: quantile(cpu, 0.5),
  };
}

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
}

const round = (x: number): number => Math.round(x * 10) / 10;

/** A running control plane has compiled ordinary specs before a hostile one arrives: JIT-warm. */
function warmUp(): void {
  const ordinary = [
    'name: warm',
    'sources:',
    '  clicks:',
    '    kafka: { topic: clicks, startingOffsets: earliest }',
    '    format: json',
    '    schema: { user_id: string, url: string, ts: timestamp, bytes: long }',
    '    watermark: { column: ts, delay: 10 seconds }',
    'sql: |',
    '  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(bytes) AS bytes',
    '  FROM clicks',
    "  WHERE url LIKE '/product/%' AND (bytes > 10 OR user_id IN ('a', 'b')) AND NOT bytes = -1",
    "  GROUP BY window(ts, '1 minute'), user_id",
    'sink:',
    '  postgres: { table: clicks_per_user, key: [window_start, user_id] }',
    'outputMode: update',
    'trigger: { processingTime: 2 seconds }',
    '',
  ].join('\n');
  for (let i = 0; i < 200; i++) compileSpec(ordinary);
}

function main(): void {
  warmUp();
  const worst = worstCases().map(measure);
  const refused = attacks().map(measure);
  const all = [...worst, ...refused];
  const slowest = all.reduce((a, b) => (b.wallMs.median > a.wallMs.median ? b : a));
  const result = {
    runs: RUNS,
    budgetMs: BUDGET_MS,
    node: process.version,
    worstCaseMedianMs: slowest.wallMs.median,
    worstCaseMaxMs: Math.max(...all.map((r) => r.wallMs.max)),
    slowestCase: slowest.name,
    underBudget: slowest.wallMs.median < BUDGET_MS,
    cases: worst,
    attacks: refused,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  for (const r of all)
    process.stdout.write(
      `${r.name.padEnd(24)} ${String(r.bytes).padStart(7)} B  median ${String(r.wallMs.median).padStart(6)} ms  p90 ${String(r.wallMs.p90).padStart(6)}  max ${String(r.wallMs.max).padStart(6)}  cpu ${String(r.cpuMsMedian).padStart(6)}  ${r.outcome}\n`,
    );
  process.stdout.write(
    `worst median ${result.worstCaseMedianMs} ms (${result.slowestCase}), worst single run ${result.worstCaseMaxMs} ms; budget ${BUDGET_MS} ms\n`,
  );
}

main();
