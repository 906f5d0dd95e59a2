// `npm run -s bench:hostile-flood [-- --runs N] [--requests N] [--json]`: /healthz latency while a flood of the
// hardening issue's hostile specs (800 KB of nested brackets, 20,000 ORs, 100k-deep JSON, wrong
// content types) arrives, against idle latency in the same run. Target: max ≤ 50 ms during the
// flood. It runs the flood scenario of apps/control-plane/test/hostile-spec.int.ts on its own
// (one definition of the payloads and the flood) and reads the latencies that test records.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..');
const TARGET_MAX_MS = 50;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    requests: { type: 'string', default: '500' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error('--runs must be 1-50');
// The test floods with 50 requests; a longer flood gives the latency figures more probes.
const requests = Number(values.requests);
if (!Number.isInteger(requests) || requests < 10 || requests > 5000)
  throw new Error('--requests must be 10-5000');

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const round = (x: number): number => Math.round(x * 10) / 10;

const results = [];
for (let i = 0; i < runs; i++) {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-flood-')), 'report.json');
  const r = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      '--project',
      'control-plane-int',
      'apps/control-plane/test/hostile-spec.int.ts',
      '-t',
      'keeps answering /healthz',
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        SLUICE_FLOOD_REPORT: report,
        SLUICE_FLOOD_TOTAL: String(requests),
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
    },
  );
  if (r.status !== 0 || !fs.existsSync(report))
    throw new Error(`flood run ${i + 1} failed:\n${r.stdout}\n${r.stderr}`);
  const { idle, during, statuses } = JSON.parse(fs.readFileSync(report, 'utf8')) as {
    idle: number[];
    during: number[];
    statuses: number[];
  };
  results.push({
    requests: statuses.length,
    refused4xx: statuses.filter((s) => s >= 400 && s < 500).length,
    probes: during.length,
    idleP50Ms: round(pct(idle, 50)),
    idleMaxMs: round(Math.max(...idle)),
    duringP50Ms: round(pct(during, 50)),
    duringP99Ms: round(pct(during, 99)),
    duringMaxMs: round(Math.max(...during)),
    meetsTarget: Math.max(...during) <= TARGET_MAX_MS,
  });
}
const out = { targetMaxMs: TARGET_MAX_MS, loadAverage: os.loadavg().map(round), runs: results };
if (values.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else
  for (const r of results)
    process.stdout.write(
      `healthz during flood: p50 ${r.duringP50Ms} ms, p99 ${r.duringP99Ms} ms, max ${r.duringMaxMs} ms (idle p50 ${r.idleP50Ms}, max ${r.idleMaxMs}); ${r.refused4xx}/${r.requests} refused with 4xx; target ≤ ${TARGET_MAX_MS} ms: ${r.meetsTarget ? 'met' : 'missed'}\n`,
    );
