// `npm run -s bench:dashboard [-- --queries N] [--loads N] [--seconds N] [--json]`: the queries
// page in headless Chromium (Debian's, through playwright-core) with N queries registered (500 by
// default) on a real control plane with its own database: first and largest contentful paint of
// the page (median of --loads fresh loads, with time to first byte, HTML size and the time all N
// rows are in the DOM), its JavaScript gzipped, and the renderer's main-thread CPU while the page
// takes its live updates for --seconds.
//
// Live updates are driven for real: the bench plays N engines and sends one progress event per
// query per second to the control plane's progress topic (its real ingest path), with changing
// rates, so every query's lastProgressAt moves every second and each snapshot the dashboard
// pushes differs in every row. The rate of snapshots the page's stream actually delivered, and how
// many rows changed in each, are measured on a second subscriber of the same stream, outside the
// browser (so counting costs the page nothing), and reported beside the CPU figure.
// Targets: LCP ≤ 1,000 ms, ≤ 200 kB of gzipped JS, live updates of N rows at 1 Hz ≤ 20 % of one core.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { PROGRESS_TOPIC } from '@sluice/contracts';
import { createKafka, parseBrokers } from '@sluice/kafka';
import { freePort } from '@sluice/testing';
import { launchChromium } from '../../e2e/support/browser';
import { startE2EControlPlane } from '../../e2e/support/control-plane';
import { ensureDashboardBuilt, ROOT, startDashboard } from '../../e2e/support/dashboard-build';
import { REDIS_INDEXES } from '../../apps/control-plane/test/support/redis-indexes';

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

async function registerQueries(base: string, token: string): Promise<string[]> {
  const ids: string[] = [];
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
        if (r.status === 201) {
          ids.push(((await r.json()) as { id: string }).id);
          break;
        }
        const text = await r.text();
        if (r.status < 500 || attempt === 5) throw new Error(`register query ${i}: ${r.status} ${text}`);
        await new Promise((res) => setTimeout(res, 1000 * attempt));
      }
      if (++done % 100 === 0) log(`registered ${done}/${QUERIES} queries`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return ids;
}

const FIXTURE = path.join(ROOT, 'libs', 'contracts', 'test', 'fixtures', 'spark-progress-kafka.json');

/**
 * Plays the engines of `ids`: one progress event per query every second, sent to the progress
 * topic the control plane ingests, with rates that change from one second to the next.
 */
async function startProgressPlayer(brokers: string, ids: string[]): Promise<{ stop(): Promise<number> }> {
  const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  const producer = createKafka({
    brokers: parseBrokers(brokers),
    clientId: 'bench-dashboard-progress',
  }).producer();
  await producer.connect();
  let batchId = 0;
  let sent = 0;
  let stopped = false;
  const loop = (async () => {
    const t0 = Date.now();
    while (!stopped) {
      batchId++;
      const now = new Date().toISOString();
      const messages = ids.map((id, i) => {
        const rate = 100 + ((batchId * 37 + i * 11) % 900);
        return {
          key: id,
          value: JSON.stringify({
            ...fixture,
            id,
            batchId,
            timestamp: now,
            inputRowsPerSecond: rate,
            processedRowsPerSecond: rate * 1.1,
          }),
        };
      });
      await producer.send({ topic: PROGRESS_TOPIC, messages });
      sent += messages.length;
      const wait = t0 + batchId * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await producer.disconnect();
      return sent;
    },
  };
}

/**
 * CPU seconds (user + system, from /proc) used so far by the Chromium renderer processes started
 * under this process. TaskDuration counts the wall time of the main thread's tasks, which on an
 * oversubscribed box includes time the thread waited for a core; this counts only time on one.
 * All renderers are summed (a spare one idles), so the figure errs high, not low.
 */
function rendererCpuSeconds(): number {
  const tick = 100; // USER_HZ on Linux
  const parent = new Map<number, number>();
  const stats = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) in parentheses: state ppid … utime stime.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(pid, Number(f[1]));
      stats.set(pid, (Number(f[11]) + Number(f[12])) / tick);
    } catch {
      // the process ended meanwhile
    }
  }
  const ours = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p))
      if (p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, cpu] of stats) {
    if (!ours(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) total += cpu;
    } catch {
      // gone
    }
  }
  return total;
}

interface StreamStats {
  events: number;
  /** Rows whose content differs from the previous snapshot, per snapshot after the first. */
  changedRows: number[];
}

/**
 * A second subscriber of the page's stream (same session, same poller): counts the snapshots and
 * the rows that changed in each, so that the browser being measured does none of this work.
 */
function watchStream(url: string, cookie: string): { stats: StreamStats; stop(): void } {
  const stats: StreamStats = { events: 0, changedRows: [] };
  const ac = new AbortController();
  let previous = new Map<string, string>();
  void (async () => {
    const res = await fetch(url, { headers: { Cookie: cookie }, signal: ac.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (!block.startsWith('event: fleet\n')) continue;
        const data = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { rows: { id: string }[] };
        if (stats.events > 0) {
          let changed = 0;
          for (const r of data.rows) if (previous.get(r.id) !== JSON.stringify(r)) changed++;
          stats.changedRows.push(changed);
        }
        stats.events++;
        previous = new Map(data.rows.map((r) => [r.id, JSON.stringify(r)]));
      }
    }
  })().catch(() => undefined);
  return { stats, stop: () => ac.abort() };
}

async function main(): Promise<void> {
  fs.mkdirSync(WORK, { recursive: true });
  ensureDashboardBuilt(log);
  const cp = await startE2EControlPlane({
    database: 'sluice_bench_dashboard',
    redisDb: REDIS_INDEXES.benchDashboard,
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
    const ids = await registerQueries(cp.base, cp.tokens.admin);
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
    const ttfb: number[] = [];
    const allRows: number[] = [];
    let htmlKb = 0;
    let jsGzipBytes = 0;
    for (let i = 0; i < LOADS; i++) {
      const c = await browser.newContext({
        viewport: { width: 1400, height: 900 },
        storageState: await ctx.storageState(),
      });
      const p = await c.newPage();
      // When the last of the N rows is in the DOM (the first paint may show fewer).
      await p.addInitScript(`new MutationObserver((_, o) => {
        const body = document.querySelector('[data-testid="queries-table"] tbody');
        if (body && body.children.length >= ${QUERIES}) { window.__allRows = performance.now(); o.disconnect(); }
      }).observe(document, { childList: true, subtree: true });`);
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
      await p.waitForFunction('window.__allRows !== undefined');
      const t = await p.evaluate<{
        fcp: number;
        lcp: number;
        ttfb: number;
        html: number;
        all: number;
      }>(`new Promise((resolve) => {
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
        const nav = performance.getEntriesByType('navigation')[0];
        new PerformanceObserver((list) => {
          const entries = list.getEntries();
          resolve({ fcp, lcp: entries[entries.length - 1].startTime, ttfb: nav.responseStart,
            html: nav.decodedBodySize, all: window.__allRows });
        }).observe({ type: 'largest-contentful-paint', buffered: true });
      })`);
      fcp.push(t.fcp);
      lcp.push(t.lcp);
      ttfb.push(t.ttfb);
      allRows.push(t.all);
      htmlKb = t.html / 1024;
      jsGzipBytes = (await Promise.all(scripts)).reduce((a, b) => a + b, 0);
      log(
        `load ${i + 1}/${LOADS}: TTFB ${round(t.ttfb)} ms, FCP ${round(t.fcp)} ms, LCP ${round(t.lcp)} ms, ` +
          `all ${QUERIES} rows ${round(t.all)} ms, HTML ${round(t.html / 1024)} kB`,
      );
      await c.close();
    }

    // Live updates: the renderer's main-thread busy time (CDP TaskDuration) over SECONDS, while
    // the bench plays the engines of every query (one progress event per query per second).
    const player = await startProgressPlayer(cp.brokers, ids);
    const p = await ctx.newPage();
    await p.goto(`${dash.base}/queries`);
    await p
      .locator('[data-testid="queries-table"] tbody tr')
      .nth(QUERIES - 1)
      .waitFor();
    await p.getByTestId('live').getByText('live').waitFor();
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    // Let the ingest and the poller settle on the new rhythm before measuring.
    await new Promise((r) => setTimeout(r, 5000));
    const watcher = watchStream(`${dash.base}/api/stream/queries`, cookie);
    const cdp = await ctx.newCDPSession(p);
    await cdp.send('Performance.enable');
    const busy = async () =>
      (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
    const b0 = await busy();
    const c0 = rendererCpuSeconds();
    const t0 = Date.now();
    log(`measuring CPU during live updates for ${SECONDS} s`);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const wall = (Date.now() - t0) / 1000;
    const cpu = ((await busy()) - b0) / wall;
    const rendererCpu = (rendererCpuSeconds() - c0) / wall;
    watcher.stop();
    const progressSent = await player.stop();
    const st = watcher.stats;
    // Snapshots over the whole window (the watcher is subscribed for all of it): two snapshots close
    // together in a window that had no others are 0.1/s, not the rate between those two.
    // The first snapshot is the replay of the current state on subscribing, not an update.
    const updatesPerSecond = Math.max(0, st.events - 1) / wall;
    const changed = st.changedRows.length ? median(st.changedRows) : 0;
    log(
      `${st.events} snapshots in ${SECONDS} s (${round(updatesPerSecond)}/s), median ${changed} of ${QUERIES} rows changed in each; ` +
        `${progressSent} progress events sent`,
    );

    const result = {
      queries: QUERIES,
      loads: LOADS,
      queriesPageFcpMs: round(median(fcp)),
      queriesPageLcpMs: round(median(lcp)),
      jsKbGzipQueriesPage: round(jsGzipBytes / 1024),
      cpuPercentLiveUpdates: round(cpu * 100),
      rendererCpuPercentLiveUpdates: round(rendererCpu * 100),
      liveUpdatesPerSecond: Math.round(updatesPerSecond * 100) / 100,
      liveRowsChangedPerUpdate: changed,
      queriesPageTtfbMs: round(median(ttfb)),
      queriesPageAllRowsMs: round(median(allRows)),
      queriesPageHtmlKb: round(htmlKb),
      targets: { lcpMs: 1000, jsKbGzip: 200, cpuPercent: 20 },
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else
      process.stdout.write(
        `queries page (${QUERIES} queries): FCP ${result.queriesPageFcpMs} ms, LCP ${result.queriesPageLcpMs} ms (target ≤ 1000), ` +
          `JS ${result.jsKbGzipQueriesPage} kB gzipped (≤ 200), live updates ${result.cpuPercentLiveUpdates} % of a core (≤ 20) ` +
          `at ${result.liveUpdatesPerSecond}/s with ${changed} rows changed each\n`,
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
