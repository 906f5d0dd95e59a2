// `npm run -s bench:dashboard [-- --queries N] [--loads N] [--seconds N] [--json]`: the queries
// page in headless Chromium (Debian's, through playwright-core) with N queries registered (500 by
// default) on a real control plane with its own database: first and largest contentful paint of
// the page (median of --loads fresh loads), its JavaScript gzipped, and the renderer's main-thread
// CPU while the page takes its live updates (every row, once a second, over SSE) for --seconds.
// Targets: LCP ≤ 1,000 ms, ≤ 200 kB of gzipped JS, ≤ 20 % of one core.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { freePort } from '@sluice/testing';
import { launchChromium } from '../../e2e/support/browser';
import { startE2EControlPlane } from '../../e2e/support/control-plane';
import { ensureDashboardBuilt, ROOT, startDashboard } from '../../e2e/support/dashboard-build';

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: '500' },
    loads: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
  },
});
const bounded = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be ${min}-${max}`);
  return n;
};
const QUERIES = bounded('queries', values.queries, 1, 5000);
const LOADS = bounded('loads', values.loads, 1, 50);
const SECONDS = bounded('seconds', values.seconds, 5, 600);
const WORK = path.join(ROOT, '.sluice', 'bench-dashboard');
const log = (m: string) => process.stderr.write(`[bench:dashboard] ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const round = (x: number) => Math.round(x * 10) / 10;

const spec = (i: number) =>
  [
    `name: bench-dash-${i}`,
    'sources:',
    '  events:',
    `    kafka: { topic: bench-dash-in-${i % 10}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { user_id: string, bytes: long }',
    'sql: SELECT user_id, bytes FROM events WHERE bytes > 100',
    'sink:',
    `  kafka: { topic: bench-dash-out-${i} }`,
    '',
  ].join('\n');

async function registerQueries(base: string, token: string): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < QUERIES) {
      const i = next++;
      // A loaded box can make the control plane answer 5xx (a transaction that could not start in
      // time); those are retried, a few times, with a pause.
      for (let attempt = 1; ; attempt++) {
        const r = await fetch(`${base}/api/v1/queries?deploy=false`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/yaml' },
          body: spec(i),
        });
        if (r.status === 201) break;
        const text = await r.text();
        if (r.status < 500 || attempt === 5) throw new Error(`register query ${i}: ${r.status} ${text}`);
        await new Promise((res) => setTimeout(res, 1000 * attempt));
      }
      if (++done % 100 === 0) log(`registered ${done}/${QUERIES} queries`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

async function main(): Promise<void> {
  fs.mkdirSync(WORK, { recursive: true });
  ensureDashboardBuilt(log);
  const cp = await startE2EControlPlane({
    database: 'sluice_bench_dashboard',
    redisDb: 12,
    workDir: WORK,
    log,
  });
  const dash = await startDashboard({
    port: await freePort(),
    apiUrl: cp.base,
    logFile: path.join(WORK, 'dashboard.log'),
  });
  const browser = await launchChromium();
  try {
    await registerQueries(cp.base, cp.tokens.admin);
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const login = await ctx.newPage();
    await login.goto(`${dash.base}/login`);
    await login.getByLabel('API token').fill(cp.tokens.viewer);
    await login.getByRole('button', { name: 'Log in' }).click();
    await login.waitForURL(`${dash.base}/queries`);
    await login
      .locator('[data-testid="queries-table"] tbody tr')
      .nth(QUERIES - 1)
      .waitFor({ timeout: 60_000 });
    await login.close();

    // Paint timings: fresh pages (cold browser cache each time: a new context), warm server.
    const fcp: number[] = [];
    const lcp: number[] = [];
    let jsGzipBytes = 0;
    for (let i = 0; i < LOADS; i++) {
      const c = await browser.newContext({
        viewport: { width: 1400, height: 900 },
        storageState: await ctx.storageState(),
      });
      const p = await c.newPage();
      const scripts: Promise<number>[] = [];
      p.on('response', (r) => {
        if (r.request().resourceType() === 'script')
          scripts.push(
            r.body().then(
              (b) => gzipSync(b).length,
              () => 0,
            ),
          );
      });
      await p.goto(`${dash.base}/queries`, { waitUntil: 'load' });
      await p
        .locator('[data-testid="queries-table"] tbody tr')
        .nth(QUERIES - 1)
        .waitFor();
      const t = await p.evaluate<{ fcp: number; lcp: number }>(`new Promise((resolve) => {
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
        new PerformanceObserver((list) => {
          const entries = list.getEntries();
          resolve({ fcp, lcp: entries[entries.length - 1].startTime });
        }).observe({ type: 'largest-contentful-paint', buffered: true });
      })`);
      fcp.push(t.fcp);
      lcp.push(t.lcp);
      jsGzipBytes = (await Promise.all(scripts)).reduce((a, b) => a + b, 0);
      log(`load ${i + 1}/${LOADS}: FCP ${round(t.fcp)} ms, LCP ${round(t.lcp)} ms`);
      await c.close();
    }

    // Live updates: the renderer's main-thread busy time (CDP TaskDuration) over SECONDS.
    const p = await ctx.newPage();
    await p.goto(`${dash.base}/queries`);
    await p
      .locator('[data-testid="queries-table"] tbody tr')
      .nth(QUERIES - 1)
      .waitFor();
    await p.getByText('live', { exact: false }).first().waitFor();
    const cdp = await ctx.newCDPSession(p);
    await cdp.send('Performance.enable');
    const busy = async () =>
      (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
    let events = 0;
    await p.exposeFunction('__benchFleetEvent', () => events++);
    await p.evaluate(`(() => {
      const es = new EventSource('/api/stream/queries');
      es.addEventListener('fleet', () => window.__benchFleetEvent());
      setTimeout(() => es.close(), ${SECONDS * 1000 + 2000});
    })()`);
    const b0 = await busy();
    const t0 = Date.now();
    log(`measuring CPU during live updates for ${SECONDS} s`);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const cpu = ((await busy()) - b0) / ((Date.now() - t0) / 1000);
    log(`${events} fleet events (${QUERIES} rows each) in ${SECONDS} s`);

    const result = {
      queries: QUERIES,
      loads: LOADS,
      queriesPageFcpMs: round(median(fcp)),
      queriesPageLcpMs: round(median(lcp)),
      jsKbGzipQueriesPage: round(jsGzipBytes / 1024),
      cpuPercentLiveUpdates: round(cpu * 100),
      liveUpdateEvents: events,
      targets: { lcpMs: 1000, jsKbGzip: 200, cpuPercent: 20 },
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else
      process.stdout.write(
        `queries page (${QUERIES} queries): FCP ${result.queriesPageFcpMs} ms, LCP ${result.queriesPageLcpMs} ms (target ≤ 1000), ` +
          `JS ${result.jsKbGzipQueriesPage} kB gzipped (≤ 200), live updates ${result.cpuPercentLiveUpdates} % of a core (≤ 20)\n`,
      );
  } finally {
    await browser.close();
    await dash.stop();
    await cp.stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench:dashboard failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
