// The dashboard end to end: Debian's Chromium against the built dashboard (next start), a real
// control plane with its own database, real engines (local runtime) and the local Kafka. One
// browser, one query, run in order: each test builds on the state the previous one left.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseBrokers, startGenerator, type RunningGenerator } from '@sluice/kafka';
import { freePort } from '@sluice/testing';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../apps/control-plane/src/alerting/receivers/signature';
import { launchChromium, screenshot, seriousA11yViolations } from './support/browser';
import { startE2EControlPlane, type E2EControlPlane } from './support/control-plane';
import { ensureDashboardBuilt, ROOT, startDashboard, type RunningDashboard } from './support/dashboard-build';
import { startFaultyProxy } from './support/faulty-proxy';
import { REDIS_INDEXES } from '../apps/control-plane/test/support/redis-indexes';

const suffix = randomUUID().slice(0, 8);
const name = `e2e-clicks-${suffix}`;
const topic = `e2e-dash-in-${suffix}`;
const WORK = path.join(ROOT, '.sluice', 'e2e-dashboard');
const log = (m: string) => process.stderr.write(`[e2e] ${m}\n`);

const spec = (where: string) =>
  [
    `name: ${name}`,
    'sources:',
    '  events:',
    `    kafka: { topic: ${topic}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { user_id: string, url: string, ts: timestamp, bytes: long }',
    'sql: |',
    `  SELECT user_id, url, bytes FROM events WHERE ${where}`,
    'sink:',
    `  kafka: { topic: e2e-dash-out-${suffix} }`,
    'trigger: { processingTime: 1 second }',
    '',
  ].join('\n');

let cp: E2EControlPlane;
let dash: RunningDashboard;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
let generator: RunningGenerator | undefined;
let queryId = '';

/** A loopback webhook receiver: every request it gets, with its signature headers and body. */
interface Received {
  path: string;
  signature: string | undefined;
  timestamp: string | undefined;
  body: string;
}
const received: Received[] = [];
let hook: http.Server;

async function login(ctx: BrowserContext, token: string, base = dash.base): Promise<Page> {
  const p = await ctx.newPage();
  await p.goto(`${base}/login`);
  await p.getByLabel('API token').fill(token);
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.waitForURL(`${base}/queries`);
  return p;
}

/** Replaces the whole text of the CodeMirror editor, as a user pasting a spec would. */
async function setEditorText(p: Page, text: string): Promise<void> {
  const content = p.locator('.cm-content');
  await content.click();
  await p.keyboard.press('Control+A');
  await p.keyboard.press('Delete');
  await p.keyboard.insertText(text);
}

/**
 * The lag sparkline of a queries-page row: the number of samples its label names and the points
 * of its polyline as [x, y] (y = 0 is the top: the highest lag of the window).
 */
async function sparkline(row: Locator): Promise<{ samples: number; points: [number, number][] }> {
  const svg = row.getByTestId('lag-trend').locator('svg');
  if ((await svg.count()) === 0) return { samples: 0, points: [] };
  const label = (await svg.getAttribute('aria-label')) ?? '';
  const points = ((await svg.locator('polyline').getAttribute('points')) ?? '')
    .trim()
    .split(' ')
    .map((xy) => xy.split(',').map(Number) as [number, number]);
  return { samples: Number(/last (\d+) samples/.exec(label)?.[1] ?? -1), points };
}

async function expectAccessible(p: Page): Promise<void> {
  expect(await seriousA11yViolations(p)).toEqual([]);
}

beforeAll(async () => {
  fs.mkdirSync(WORK, { recursive: true });
  ensureDashboardBuilt(log);
  hook = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      if (body.length < 1_000_000) body += c;
    });
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        signature: req.headers['x-sluice-signature'] as string | undefined,
        timestamp: req.headers['x-sluice-timestamp'] as string | undefined,
        body,
      });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  cp = await startE2EControlPlane({
    database: 'sluice_e2e_dashboard',
    // Its own index (apps/control-plane/test/support/redis-indexes.ts): a developer running two suites at once must
    // not wipe the other's queues.
    redisDb: REDIS_INDEXES.e2eDashboard,
    workDir: WORK,
    log,
    // Receivers deliver only with a signing key (the delivery worker does not run without one).
    env: { SLUICE_ALERT_SIGNING_KEY: randomBytes(32).toString('hex') },
  });
  dash = await startDashboard({
    port: await freePort(),
    apiUrl: cp.base,
    logFile: path.join(WORK, 'dashboard.log'),
  });
  log(`dashboard on ${dash.base}`);
  generator = await startGenerator({ brokers: parseBrokers(cp.brokers), topic, partitions: 2, rate: 200 });
  browser = await launchChromium();
  admin = await browser.newContext({ viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await generator?.stop();
  await dash?.stop();
  await cp?.stop();
  await new Promise((resolve) => (hook ? hook.close(resolve) : resolve(undefined)));
});

describe('dashboard', () => {
  it('logs in with an API token kept in an httpOnly cookie, and refuses a wrong one', async () => {
    const p = await admin.newPage();
    await p.goto(`${dash.base}/queries`);
    await p.waitForURL(`${dash.base}/login`);
    await expectAccessible(p);
    await screenshot(p, 'login');
    await p.getByLabel('API token').fill('slc_not_a_token');
    await p.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => p.locator('p.errors').textContent()).toContain('unknown or revoked token');
    await p.close();

    page = await login(admin, cp.tokens.admin);
    const cookie = (await admin.cookies()).find((c) => c.name === 'sluice_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain('sluice_session');
    await expect.poll(() => page.getByText('No queries yet.').count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'queries-empty');

    // The alerts page before any alert, silence or receiver exists: each list's empty state (the
    // `Loaded` component's), not a loading line, an error or an empty table.
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.waitForURL(`${dash.base}/alerts`);
    const silences = page.locator('section[aria-labelledby="silences-h"] .state');
    await expect.poll(() => silences.textContent(), { timeout: 30_000 }).toBe('No silences.');
    const receivers = page.locator('[data-testid="receivers"] .state');
    await expect
      .poll(() => receivers.textContent(), { timeout: 30_000 })
      .toBe('No receivers: alerts are only shown here and in /metrics.');
    expect(await page.getByTestId('alerts-firing').textContent()).toContain('No firing alerts.');
    expect(await page.getByTestId('silences').count()).toBe(0);
    expect(await page.locator('[data-receiver]').count()).toBe(0);
    expect(await page.locator('.state.error').count()).toBe(0);
    await expectAccessible(page);
    await screenshot(page, 'alerts-empty');
    await page.getByRole('link', { name: 'Queries', exact: true }).click();
    await page.waitForURL(`${dash.base}/queries`);
  });

  it('refuses a mutation without the CSRF header or from another origin', async () => {
    // From the page itself (same origin, session cookie sent) but without the header.
    const status = await page.evaluate<number>(
      "fetch('/api/cp/queries/00000000-0000-0000-0000-000000000000/stop', { method: 'POST' }).then((r) => r.status)",
    );
    expect(status).toBe(403);
    const res = await fetch(`${dash.base}/api/cp/queries/00000000-0000-0000-0000-000000000000/stop`, {
      method: 'POST',
      headers: {
        'X-Sluice-CSRF': '1',
        Origin: 'http://evil.example',
        Cookie: `sluice_session=${(await admin.cookies()).find((c) => c.name === 'sluice_session')!.value}`,
      },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('CSRF_REJECTED');
  });

  it('shows the API’s spec error at its line, then deploys the fixed spec', async () => {
    await page.getByRole('link', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(`${dash.base}/deploy`);
    await page.locator('.cm-content').waitFor();
    const broken = spec('nosuchcolumn > 300');
    await setEditorText(page, broken);
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const item = page.locator('[data-testid="spec-errors"] li').first();
    await item.waitFor();
    const wantLine = broken.split('\n').findIndex((l) => l.includes('nosuchcolumn')) + 1;
    expect(await item.getAttribute('data-line')).toBe(String(wantLine));
    expect(await item.textContent()).toContain('nosuchcolumn');
    // The diagnostic is drawn in the editor on that very line.
    const marked = page
      .locator('.cm-line')
      .nth(wantLine - 1)
      .locator('.cm-lintRange-error');
    await expect.poll(() => marked.count()).toBeGreaterThan(0);
    await expectAccessible(page);
    await screenshot(page, 'deploy-error');

    await setEditorText(page, spec('bytes > 300'));
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await page.getByTestId('plan').waitFor();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/queries\/[0-9a-f-]{36}$/);
    queryId = page.url().split('/').pop()!;
    // No rule has fired for the new query: its alerts panel shows its empty state.
    await expect
      .poll(() => page.locator('[data-testid="query-alerts"] .state').textContent(), { timeout: 30_000 })
      .toBe('No alerts for this query.');
  });

  it('shows the query RUNNING with non-zero rates on the live queries page', async () => {
    await page.goto(`${dash.base}/queries`);
    const row = page.locator(`tr[data-query="${name}"]`);
    await row.waitFor();
    await expect
      .poll(() => row.locator('.phase').textContent(), { timeout: 120_000, interval: 500 })
      .toBe('RUNNING');
    await expect
      .poll(async () => Number((await row.getByTestId('input-rate').textContent())?.replace(/,/g, '')), {
        // The issue asks for 30 s; a box running six agents' builds and tests needs more headroom.
        timeout: 90_000,
        interval: 500,
      })
      .toBeGreaterThan(0);
    expect(await page.getByTestId('live').textContent()).toContain('live');
    // The lag sparkline: drawn once the dashboard has two lag readings of the query (one per 5 s),
    // one point per sample its label counts.
    await expect
      .poll(async () => (await sparkline(row)).samples, { timeout: 60_000, interval: 500 })
      .toBeGreaterThanOrEqual(2);
    const drawn = await sparkline(row);
    expect(drawn.points).toHaveLength(drawn.samples);
    expect(drawn.points.every(([x, y]) => x >= 0 && x <= 80 && y >= 0 && y <= 18)).toBe(true);
    await expectAccessible(page);
    await screenshot(page, 'queries');
  });

  it("updates a running row's rate live, without a reload", async () => {
    // The rows' figures come from the dashboard's one bulk poll (GET /api/v1/live/queries) over SSE:
    // the input rate of the running query takes new values while the page stays as it was loaded.
    const row = page.locator(`tr[data-query="${name}"]`);
    await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
    const samplesBefore = (await sparkline(row)).samples;
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          seen.add((await row.getByTestId('input-rate').textContent()) ?? '');
          return seen.size;
        },
        { timeout: 90_000, interval: 250 },
      )
      .toBeGreaterThanOrEqual(3);
    expect([...seen].every((v) => Number(v.replace(/,/g, '')) >= 0)).toBe(true);
    // The sparkline takes the new lag samples too (it keeps the last 60).
    await expect
      .poll(async () => (await sparkline(row)).samples, { timeout: 60_000, interval: 500 })
      .toBeGreaterThan(Math.min(samplesBefore, 59));
    expect(await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(
      true,
    );
  });

  it('sorts, filters and searches the queries page', async () => {
    // Two more queries, registered without deploying (no engines): they stay out of RUNNING.
    const others = [`e2e-aaa-${suffix}`, `e2e-zzz-${suffix}`];
    for (const other of others) {
      const r = await fetch(`${cp.base}/api/v1/queries?deploy=false`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${cp.tokens.admin}`, 'Content-Type': 'application/yaml' },
        body: spec('bytes > 1').replace(`name: ${name}`, `name: ${other}`),
      });
      expect(r.status, await r.text()).toBe(201);
    }
    const names = () =>
      page
        .locator('[data-testid="queries-table"] tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-query')));
    const ours = [others[0]!, name, others[1]!]; // e2e-aaa < e2e-clicks < e2e-zzz
    await expect.poll(names, { timeout: 30_000 }).toEqual(ours);
    const nameHeader = page.getByRole('columnheader', { name: 'Name' });
    expect(await nameHeader.getAttribute('aria-sort')).toBe('ascending');
    await nameHeader.getByRole('button').click();
    expect(await nameHeader.getAttribute('aria-sort')).toBe('descending');
    expect(await names()).toEqual([...ours].reverse());
    // By input rate, highest first: the running query (rows/s > 0) before the two never deployed.
    const input = page.getByRole('columnheader', { name: 'Input rows/s' });
    await input.getByRole('button').click();
    await input.getByRole('button').click();
    expect(await input.getAttribute('aria-sort')).toBe('descending');
    expect((await names())[0]).toBe(name);
    // Filter by phase, then search by name; then no match at all.
    await page.getByLabel('Phase').selectOption('RUNNING');
    expect(await names()).toEqual([name]);
    await page.getByLabel('Phase').selectOption('');
    await page.getByLabel('Search').fill('zzz');
    expect(await names()).toEqual([others[1]]);
    await page.getByLabel('Search').fill('no-such-query-name');
    expect(await page.getByText('No query matches the search or filter.').count()).toBe(1);
    await expectAccessible(page);
    await page.getByLabel('Search').fill('');
    await expect.poll(names).toHaveLength(3);
  });

  it('scales to 2 instances after a confirmation and shows both running', async () => {
    await page.goto(`${dash.base}/queries/${queryId}`);
    await page.getByRole('spinbutton', { name: 'Instances' }).fill('2');
    await page.getByRole('button', { name: 'Scale', exact: true }).click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain('Run 2 instance(s)');
    await dialog.getByRole('button', { name: 'Scale' }).click();
    const running = page.locator('[data-testid="instances-table"] tr[data-status="RUNNING"]');
    await expect.poll(() => running.count(), { timeout: 120_000, interval: 500 }).toBe(2);
    await expect
      .poll(() => page.locator('[data-op-type="scale"][data-op-state="SUCCEEDED"]').count(), {
        timeout: 60_000,
      })
      .toBeGreaterThan(0);
    await expectAccessible(page);
    await screenshot(page, 'query-detail');
  });

  it('sets the CPU limit per instance after a confirmation; out of bounds is refused in the form', async () => {
    const scaling = async () =>
      (
        (await (
          await fetch(`${cp.base}/api/v1/queries/${queryId}/scaling`, {
            headers: { Authorization: `Bearer ${cp.tokens.admin}` },
          })
        ).json()) as { cpuLimit: number | null }
      ).cpuLimit;
    await page.goto(`${dash.base}/queries/${queryId}`);
    const input = page.getByRole('spinbutton', { name: /CPU limit per instance/ });
    const set = page.getByRole('button', { name: 'Set CPU limit', exact: true });
    await input.fill('100');
    expect(await page.getByTestId('cpu-limit-problem').textContent()).toMatch(/cpuLimit .*0\.01 to 64/);
    expect(await set.isDisabled()).toBe(true);
    await input.fill('0.5');
    await set.click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain('to 0.5 core(s) (now none)');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(scaling, { timeout: 30_000 }).toBe(0.5);
    await page.reload();
    await expect.poll(() => input.inputValue(), { timeout: 30_000 }).toBe('0.5');
    // Emptied: the limit is removed (the engines of the tests after this one run unlimited).
    await input.fill('');
    await set.click();
    expect(await dialog.textContent()).toContain('Remove the CPU limit');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(scaling, { timeout: 30_000 }).toBeNull();
  });

  it('draws the live charts from real progress and lag', async () => {
    await page.goto(`${dash.base}/queries/${queryId}`);
    const rates = page.getByTestId('chart-rates');
    // Points from the progress history and the SSE stream; the newest input rate is not zero.
    await expect
      .poll(async () => Number(await rates.getAttribute('data-points')), { timeout: 60_000 })
      .toBeGreaterThan(3);
    await expect
      .poll(async () => (JSON.parse((await rates.getAttribute('data-last')) ?? '[]') as number[])[0], {
        timeout: 60_000,
      })
      .toBeGreaterThan(0);
    // Batch durations against the trigger interval (the spec's processingTime: 1 second, from the
    // plan compiler once the versions have loaded).
    const batch = page.getByTestId('chart-batch');
    const batchLast = async () => JSON.parse((await batch.getAttribute('data-last')) ?? '[]') as number[];
    await expect.poll(async () => (await batchLast())[1], { timeout: 30_000 }).toBe(1000);
    expect((await batchLast())[0]).toBeGreaterThan(0);
    const lag = page.getByTestId('chart-lag-records');
    await expect
      .poll(async () => Number(await lag.getAttribute('data-points')), { timeout: 30_000 })
      .toBeGreaterThan(1);
    // Two partitions, two series, each with a newest value.
    const lagLast = JSON.parse((await lag.getAttribute('data-last')) ?? '[]') as (number | null)[];
    expect(lagLast).toHaveLength(2);
    expect(lagLast.every((v) => typeof v === 'number')).toBe(true);
    // Seconds behind per partition: the same two series (a partition caught up may have no age).
    const lagSeconds = page.getByTestId('chart-lag-seconds');
    expect(JSON.parse((await lagSeconds.getAttribute('data-last')) ?? '[]')).toHaveLength(2);
    // Instances over time, from the engines' own reports: 2 since the scale of the test before.
    const scale = page.getByTestId('chart-scale');
    await expect
      .poll(async () => (JSON.parse((await scale.getAttribute('data-last')) ?? '[]') as number[])[0], {
        timeout: 60_000,
      })
      .toBe(2);
    // And the canvas really has the input series drawn: pixels of its colour (#0b5cad).
    // (The root tsconfig has no DOM types: the canvas is described by what is used of it.)
    type Canvas = {
      width: number;
      height: number;
      getContext(kind: '2d'): {
        getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
      };
    };
    const drawn = await rates.locator('canvas').evaluate((c) => {
      const canvas = c as unknown as Canvas;
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4)
        if (
          Math.abs(d[i]! - 11) < 40 &&
          Math.abs(d[i + 1]! - 92) < 40 &&
          Math.abs(d[i + 2]! - 173) < 40 &&
          d[i + 3]! > 128
        )
          n++;
      return n;
    });
    expect(drawn).toBeGreaterThan(20);
    // Conditions (the reconciler's Ready among them) and the last progress event as formatted JSON.
    const conditions = page.locator('section[aria-labelledby="conditions-h"] tbody tr');
    await expect
      .poll(() => conditions.allTextContents(), { timeout: 30_000 })
      .toContainEqual(expect.stringContaining('Ready'));
    const last = page.getByLabel('last progress event as JSON');
    const lastText = (await last.textContent()) ?? '';
    expect(lastText).toContain('\n  "'); // indented, not one line
    expect(JSON.parse(lastText)).toMatchObject({
      batchId: expect.any(Number),
      sluice: { instance: expect.any(String) },
    });
    // Scaling decisions: the scaling loop (every 10 s, observe mode) records a decision per tick
    // with the figures it used and its reason; since the scale of the test before it starts from 2.
    const decided = page.locator('[data-testid="scaling-events"] tbody tr[data-from="2"]');
    await expect.poll(() => decided.count(), { timeout: 60_000, interval: 1000 }).toBeGreaterThan(0);
    const decision = decided.first();
    expect(await decision.getAttribute('data-direction')).toMatch(/^(up|down|none)$/);
    expect(((await decision.getByTestId('reason').textContent()) ?? '').trim().length).toBeGreaterThan(0);
    const inputs = (await decision.getByTestId('inputs').textContent()) ?? '';
    expect(inputs).toMatch(/(^| )partitions=2( |$)/);
    expect(inputs).toMatch(/(^| )currentInstances=2( |$)/);
    expect(inputs).toMatch(/(^| )decidedInstances=\d+( |$)/);
    expect(await decision.locator('td').nth(1).textContent()).toContain('(observe)');
    await expectAccessible(page);
    await screenshot(page, 'query-charts');
  });

  it('upgrades in place to a compatible version and shows its steps completing', async () => {
    await page.getByRole('link', { name: 'New version…' }).click();
    await page.waitForURL(/\/deploy\?query=/);
    await page.locator('.cm-content').waitFor();
    await setEditorText(page, spec('bytes > 500'));
    await page.getByRole('button', { name: 'Check as a new version' }).click();
    const report = page.getByTestId('compatibility');
    await report.waitFor();
    expect(await report.getAttribute('data-compatible')).toBe('true');
    await page.getByLabel('Strategy').selectOption('in-place');
    await page.getByRole('button', { name: 'Upgrade to version 2' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Upgrade' }).click();
    const op = page.locator('[data-op-type="upgrade"]').first();
    await expect.poll(() => op.getAttribute('data-op-state'), { timeout: 150_000 }).toBe('SUCCEEDED');
    expect(await op.locator('.step-done').count()).toBeGreaterThan(2);
    expect(await op.locator('.step-failed').count()).toBe(0);
    // Rollback is offered once the upgrade is over.
    expect(await page.getByRole('button', { name: 'Roll back' }).count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'upgrade');
  });

  it('rolls back by hand to the previous version and shows the steps', async () => {
    // On the page that watched the upgrade, which offers the rollback once it is over.
    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain('previous good version');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    const op = page.locator('[data-op-type="rollback"]').first();
    await op.waitFor({ timeout: 30_000 });
    await expect.poll(() => op.getAttribute('data-op-state'), { timeout: 150_000 }).toBe('SUCCEEDED');
    expect(await op.locator('.step-done').count()).toBe(3);
    expect(await op.locator('.step-failed').count()).toBe(0);
    await expectAccessible(page);
    await screenshot(page, 'rollback');
    await page.goto(`${dash.base}/queries/${queryId}`);
    await expect
      .poll(() => page.locator('dd').nth(1).textContent(), { timeout: 30_000 })
      .toContain('version 1');
    // The versions panel: the newest version against the one before as a line diff, the added line
    // the upgrade's new filter.
    const diff = page.getByLabel('spec diff');
    await diff.waitFor({ timeout: 30_000 });
    expect(await diff.locator('.add').first().textContent()).toContain('bytes > 500');
    expect(await diff.locator('.del').count()).toBeGreaterThan(0);
  });

  it('shows the report of an incompatible version and the API refusing it in place', async () => {
    await page.goto(`${dash.base}/deploy?query=${queryId}`);
    await page.locator('.cm-content').waitFor();
    // A new source topic: the checkpoint's offsets belong to another topic.
    await setEditorText(page, spec('bytes > 500').replace(`topic: ${topic}`, `topic: ${topic}-other`));
    await page.getByRole('button', { name: 'Check as a new version' }).click();
    const report = page.getByTestId('compatibility');
    await report.waitFor();
    expect(await report.getAttribute('data-compatible')).toBe('false');
    expect(await report.locator('.sev-incompatible').count()).toBeGreaterThan(0);
    await page.getByLabel('Strategy').selectOption('in-place');
    await page.getByRole('button', { name: 'Upgrade to version 3' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Upgrade' }).click();
    await expect.poll(() => page.getByTestId('spec-errors').textContent()).toContain('409');
    await screenshot(page, 'upgrade-incompatible');
  });

  it('lowers the rate limit, sees the lag alert fire, and silences it', async () => {
    // A records-lag rule for this query with a low threshold (the default rules wait minutes).
    const rule = `E2eLag_${suffix.replace(/-/g, '')}`;
    const created = await fetch(`${cp.base}/api/v1/alert-rules`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${cp.tokens.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: rule,
        kind: 'recordsLag',
        params: { thresholdRecords: 200 },
        forSeconds: 0,
        severity: 'warning',
        annotations: { summary: 'lag of {{ $labels.query }} is {{ $value }} records' },
        queries: [name],
      }),
    });
    expect(created.status, await created.text()).toBe(201);
    await page.goto(`${dash.base}/queries/${queryId}`);
    await page.getByLabel(/Rate limit/).fill('5');
    await page.getByRole('button', { name: 'Set rate limit' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(() => page.locator('[data-op-type="rate-limit"][data-op-state="SUCCEEDED"]').count(), {
        timeout: 60_000,
      })
      .toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('dd').nth(1).textContent(), { timeout: 30_000 })
      .toContain('rate limit 5');

    // 200 records/s in, 5 offsets per trigger out: the lag grows past the threshold and fires.
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.waitForURL(`${dash.base}/alerts`);
    const firing = page.locator(`[data-testid="alerts-firing"] tr[data-rule="${rule}"]`);
    await firing.waitFor({ timeout: 120_000 });
    expect(await firing.getAttribute('data-query')).toBe(name);
    await expectAccessible(page);
    await firing.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Acknowledge' }).click();
    await expect
      .poll(() => firing.getByTestId('muted').textContent(), { timeout: 30_000 })
      .toContain('acknowledged by');
    expect(await firing.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    await firing.getByRole('button', { name: 'Silence…' }).click();
    const form = page.getByTestId('silence-form');
    expect(await form.locator('input').nth(1).inputValue()).toBe(rule);
    await form.getByLabel('Duration').selectOption({ label: '1 hour' });
    await form.getByRole('button', { name: 'Create silence' }).click();
    await expect
      .poll(() => firing.getByTestId('muted').textContent(), { timeout: 30_000 })
      .toContain('silenced');
    expect(await page.getByTestId('silences').textContent()).toContain(`alertname="${rule}"`);
    await expectAccessible(page);
    await screenshot(page, 'alerts');

    // The queries page: the firing alert counts on the query's row (a silenced alert still fires),
    // and the lag sparkline rises: its newest sample is the highest of its window (y = 0).
    await page.getByRole('link', { name: 'Queries', exact: true }).click();
    await page.waitForURL(`${dash.base}/queries`);
    const row = page.locator(`tr[data-query="${name}"]`);
    await expect
      .poll(async () => Number(await row.getByTestId('firing-alerts').textContent()), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(1);
    await expect
      .poll(async () => (await sparkline(row)).points.at(-1)?.[1], { timeout: 90_000, interval: 1000 })
      .toBe(0);
    expect((await sparkline(row)).points.some(([, y]) => y > 0)).toBe(true);
    await screenshot(page, 'queries-alert-firing');

    // The query's own alerts panel: the rule firing, silenced and acknowledged.
    await page.goto(`${dash.base}/queries/${queryId}`);
    const own = page.locator(`[data-testid="query-alerts"] tr[data-rule="${rule}"]`);
    await own.waitFor({ timeout: 30_000 });
    expect(await own.getAttribute('data-state')).toBe('firing');
    expect(await own.getByTestId('muted').textContent()).toContain('silenced');
    expect(await own.getByTestId('muted').textContent()).toContain('acknowledged by');
    expect(await page.locator('[data-testid="query-alerts"] .state').count()).toBe(0);
    await expectAccessible(page);
  });

  it('adds a receiver, sends it a test notification and shows the delivery', async () => {
    const receiver = `e2e-hook-${suffix}`;
    const port = (hook.address() as AddressInfo).port;
    await page.goto(`${dash.base}/alerts`);
    const form = page.getByRole('form', { name: 'New receiver' });
    await form.getByLabel('Receiver name').fill(receiver);
    await form.getByLabel('URL').fill(`http://127.0.0.1:${port}/hook`);
    await form.getByRole('button', { name: 'Add receiver' }).click();
    const secret = (await page.getByTestId('receiver-secret').textContent())!;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const panel = page.locator(`[data-receiver="${receiver}"]`);
    await panel.getByRole('button', { name: 'Send test' }).click();
    const delivered = panel.locator(
      '[data-testid="deliveries"] tr[data-status="delivered"][data-test="true"]',
    );
    await delivered.waitFor({ timeout: 60_000 });
    expect(await delivered.getByTestId('http-status').textContent()).toBe('200');
    // The loopback receiver got it, signed with the secret the page showed once.
    const got = received.find((r) => r.path === '/hook');
    expect(got).toBeDefined();
    expect(
      verify(secret, { signature: got!.signature, timestamp: got!.timestamp }, got!.body, Date.now() / 1000),
    ).toBe(true);
    await expectAccessible(page);
    await screenshot(page, 'alerts-receivers');
    await page.reload();
    await panel.waitFor();
    expect(await page.getByTestId('receiver-secret').count()).toBe(0);
  });

  it('audit log and tokens pages (admin)', async () => {
    await page.goto(`${dash.base}/audit`);
    await page.getByTestId('audit').waitFor();
    expect(await page.getByTestId('audit').textContent()).toContain('scale');
    await expectAccessible(page);
    await screenshot(page, 'audit');
    await page.goto(`${dash.base}/tokens`);
    await page.getByText('e2e-viewer').waitFor();
    // The bootstrap token (SLUICE_BOOTSTRAP_TOKEN, the one this page was opened with) is not
    // offered for revocation: revoking it would lock its users out until the variable changes.
    const bootstrap = page.locator('[data-testid="tokens"] tr[data-origin="bootstrap"]');
    expect(await bootstrap.count()).toBe(1);
    expect(await bootstrap.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    expect(await bootstrap.getByTestId('bootstrap-note').textContent()).toContain(
      'change that variable and restart the control plane',
    );
    // Tokens made through the API still are.
    const viewerRow = page.locator('[data-testid="tokens"] tr[data-token="e2e-viewer"]');
    expect(await viewerRow.getAttribute('data-origin')).toBe('api');
    expect(await viewerRow.getByRole('button', { name: 'Revoke' }).count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'tokens');
  });

  it('creates a token shown once, and a revoked token no longer logs in', async () => {
    const tokenName = `e2e-temp-${suffix}`;
    await page.getByLabel('Name').fill(tokenName);
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByTestId('new-token').textContent())!;
    expect(secret.length).toBeGreaterThan(20);
    const row = page.locator(`[data-testid="tokens"] tr[data-token="${tokenName}"]`);
    await row.waitFor();
    expect(await row.textContent()).not.toContain(secret);
    await expectAccessible(page);
    await screenshot(page, 'tokens-created');
    await page.reload();
    await row.waitFor();
    expect(await page.getByTestId('new-token').count()).toBe(0);

    // The new token logs in (as a viewer) ...
    const ctx = await browser.newContext();
    const t = await login(ctx, secret);
    expect(await t.getByTestId('who').textContent()).toContain('viewer');
    await ctx.close();
    // ... until it is revoked.
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => row.getAttribute('data-revoked'), { timeout: 30_000 }).toBe('true');
    const again = await browser.newContext();
    const p = await again.newPage();
    await p.goto(`${dash.base}/login`);
    await p.getByLabel('API token').fill(secret);
    await p.getByRole('button', { name: 'Log in' }).click();
    await expect
      .poll(() => p.locator('p.errors').textContent(), { timeout: 30_000 })
      .toContain('unknown or revoked token');
    await again.close();
  });

  it('offers a viewer no mutating control', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const v = await login(ctx, cp.tokens.viewer);
    await v.locator(`tr[data-query="${name}"]`).waitFor();
    expect(await v.getByRole('link', { name: 'Deploy', exact: true }).count()).toBe(0);
    expect(await v.getByRole('link', { name: 'Tokens', exact: true }).count()).toBe(0);
    await v.goto(`${dash.base}/queries/${queryId}`);
    await v.getByTestId('observed').waitFor();
    expect(await v.getByTestId('actions').count()).toBe(0);
    for (const label of ['Scale', 'Stop', 'Start', 'Delete', 'Set rate limit', 'Set CPU limit'])
      expect(await v.getByRole('button', { name: label, exact: true }).count()).toBe(0);
    await v.goto(`${dash.base}/deploy`);
    await v.waitForURL(`${dash.base}/queries`);
    await screenshot(v, 'viewer-query');
    await v.getByRole('button', { name: 'Log out' }).click();
    await v.waitForURL(`${dash.base}/login`);
    expect((await ctx.cookies()).find((c) => c.name === 'sluice_session')).toBeUndefined();
    await ctx.close();
  });

  it('shows a clear error when the control plane answers 500, and the error page when its answer cannot be rendered', async () => {
    // A second dashboard, in front of which a proxy answers the query's GET itself; everything
    // else (login, the other requests of the page) reaches the real control plane.
    const proxy = await startFaultyProxy(cp.base);
    const faulty = await startDashboard({
      port: await freePort(),
      apiUrl: proxy.base,
      logFile: path.join(WORK, 'dashboard-faulty.log'),
    });
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const p = await login(ctx, cp.tokens.admin, faulty.base);
      const queryPath = `/api/v1/queries/${queryId}`;
      proxy.answer = (method, url) =>
        method === 'GET' && url === queryPath
          ? { status: 500, body: { code: 'INTERNAL', message: 'injected: the database is gone' } }
          : null;
      await p.goto(`${faulty.base}/queries/${queryId}`);
      const failed = p.getByText('Could not load the query');
      await failed.waitFor({ timeout: 30_000 });
      expect(await failed.textContent()).toContain('injected: the database is gone');
      expect(await p.getByTestId('page-error').count()).toBe(0);
      await expectAccessible(p);
      await screenshot(p, 'query-load-500');

      // A 200 of the wrong shape (what another API version or a proxy's page would give): the query
      // page cannot render it, and the error page shows instead of a blank page, in the layout.
      proxy.answer = (method, url) =>
        method === 'GET' && url === queryPath ? { status: 200, body: { id: queryId, name } } : null;
      await p.goto(`${faulty.base}/queries/${queryId}`);
      const error = p.getByTestId('page-error');
      await error.waitFor({ timeout: 30_000 });
      expect(await error.textContent()).toContain('This page could not be shown.');
      expect(await error.getByRole('button', { name: 'Try again' }).count()).toBe(1);
      // The JavaScript message is behind a disclosure: hidden until the user opens it.
      const details = error.getByTestId('error-details');
      const technical = details.locator('pre');
      expect(await technical.isVisible()).toBe(false);
      await details.getByText('Technical details').click();
      expect(await technical.isVisible()).toBe(true);
      expect((await technical.textContent())?.trim()).toMatch(/^\w*Error: \S/);
      expect(await p.getByRole('link', { name: 'Queries', exact: true }).count()).toBe(1);
      await expectAccessible(p);
      await screenshot(p, 'error-page');

      // With the control plane answering properly again, "All queries" leads back.
      proxy.answer = () => null;
      await error.getByRole('link', { name: 'All queries' }).click();
      await p.waitForURL(`${faulty.base}/queries`);
      await p.locator(`tr[data-query="${name}"]`).waitFor();

      // An action the API refuses (409: another operation runs) keeps its dialog open with the
      // API's message, and the page stays where it is (a refused Delete used to close the dialog).
      proxy.answer = (method, url) =>
        method === 'DELETE' && url === queryPath
          ? {
              status: 409,
              body: { code: 'OPERATION_IN_PROGRESS', message: 'injected: an operation is in progress' },
            }
          : null;
      await p.goto(`${faulty.base}/queries/${queryId}`);
      await p.getByRole('button', { name: 'Delete', exact: true }).click();
      const dialog = p.getByRole('alertdialog');
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      const refused = dialog.getByRole('alert');
      await refused.waitFor({ timeout: 30_000 });
      expect(await refused.textContent()).toContain('injected: an operation is in progress');
      expect(p.url()).toBe(`${faulty.base}/queries/${queryId}`);
      await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
    } finally {
      await ctx.close();
      await faulty.stop();
      await proxy.close();
    }
  });

  it('stops, starts and deletes the query, each after a confirmation', async () => {
    await page.goto(`${dash.base}/queries/${queryId}`);
    const phase = page.locator('h1 .phase');
    const confirm = async (button: string) => {
      await page.getByRole('button', { name: button, exact: true }).click();
      const dialog = page.getByRole('alertdialog');
      expect(await dialog.textContent()).toContain(name);
      await dialog.getByRole('button', { name: button, exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
    };
    await confirm('Stop');
    await expect.poll(() => phase.textContent(), { timeout: 120_000, interval: 500 }).toBe('STOPPED');
    expect(await page.locator('[data-testid="instances-table"] tr[data-status="RUNNING"]').count()).toBe(0);
    await confirm('Start');
    await expect.poll(() => phase.textContent(), { timeout: 120_000, interval: 500 }).toBe('RUNNING');
    // The phase shows RUNNING before the start operation has finished (it waits for every instance
    // to be ready); a Delete before that is refused with 409 (a CI run of 2026-12-04 under load).
    const active = async () =>
      (
        (await (
          await fetch(`${cp.base}/api/v1/queries/${queryId}/operations`, {
            headers: { Authorization: `Bearer ${cp.tokens.admin}` },
          })
        ).json()) as { state: string }[]
      ).filter((o) => o.state === 'QUEUED' || o.state === 'RUNNING').length;
    await expect.poll(active, { timeout: 120_000, interval: 500 }).toBe(0);
    await confirm('Delete');
    await page.waitForURL(`${dash.base}/queries`);
    await expect
      .poll(() => page.locator(`tr[data-query="${name}"]`).count(), { timeout: 120_000, interval: 500 })
      .toBe(0);
    await page.goto(`${dash.base}/queries/${queryId}`);
    await page.getByText('No such query.').waitFor({ timeout: 30_000 });
    await expectAccessible(page);
    await screenshot(page, 'query-not-found');
    await page.goto(`${dash.base}/no-such-page`);
    expect(await page.locator('h1').textContent()).toBe('Page not found');
    await expectAccessible(page);
    await screenshot(page, 'not-found');
  });

  it('shows a banner, not a blank page, when the control plane is down', async () => {
    await generator?.stop();
    generator = undefined;
    await cp.stop();
    await page.goto(`${dash.base}/queries`);
    await page.getByTestId('cp-down').waitFor({ timeout: 30_000 });
    expect(await page.locator('h1').textContent()).toBe('Queries');
    expect(await page.getByTestId('cp-down').textContent()).toContain('not reachable');
    await expectAccessible(page);
    await screenshot(page, 'control-plane-down');
  });
});
