// The README's commands as a new user runs them: from a fresh `git clone` inside a folder that
// other users cannot enter (mode 0700, like /root or `mktemp -d`). As root, PostgreSQL runs as
// the `postgres` user, which cannot reach such a folder; the stack must still come up there
// (its cluster then lives in a slot under /var/lib/sluice) and go down leaving nothing running.
// The second test runs `npm run demo` in the same clone as a user does: the dashboard answers at
// the URL it prints, the printed token logs in through Chromium and the demo query is listed
// RUNNING; Ctrl-C (SIGINT to the process group) stops the dashboard, the control plane and the
// stack. The third runs it again and kills its control plane with SIGKILL: the demo must notice,
// say so, stop everything it started (the dashboard too) and exit non-zero.
//
// Everything runs on ports asked from the OS and with the clone's own SLUICE_HOME, beside the
// shared stack the other integration suites use, which is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, pidAlive, portOpen, readPid } from '../stack/proc';
import { ENGINE_PROGRAM_PATTERN } from '../../apps/control-plane/src/runtime/engine-bundle';
import { pointerFile, SLOT_BASE } from '../stack/pg-location';

const ROOT = path.resolve(__dirname, '..', '..');
const say = (m: string) => process.stderr.write(`[fresh-clone] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let parent: string;
let clone: string;
let home: string;
let env: NodeJS.ProcessEnv;
let ports: { pg: number; redis: number; kafka: number; controller: number; api: number; dashboard: number };
let demo: ChildProcess | undefined;

/** Ports free right now (the OS picks them), distinct from each other. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer();
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const found = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return found;
}

/**
 * The clone reuses this checkout's installed packages instead of a fresh `npm ci` (40 s or more
 * and a network round trip on every run): each top-level entry of node_modules, and each
 * workspace's own node_modules (npm nests there the versions that differ from the hoisted ones),
 * is a symlink to this checkout's. The workspace packages (@sluice/*) are the exception: their
 * links point into the clone, as npm would make them, so the clone runs its own code and not
 * this working tree's. The lockfile stamp comes along, so `ensure-deps.sh` sees an installed tree
 * (if this checkout's lockfile has uncommitted changes it runs `npm ci` in the clone instead).
 */
function linkNodeModules(): void {
  const src = path.join(ROOT, 'node_modules');
  const dst = path.join(clone, 'node_modules');
  fs.mkdirSync(path.join(dst, '@sluice'), { recursive: true });
  for (const entry of fs.readdirSync(src)) {
    if (entry !== '@sluice') fs.symlinkSync(path.join(src, entry), path.join(dst, entry));
  }
  for (const pkg of fs.readdirSync(path.join(src, '@sluice'))) {
    fs.symlinkSync(fs.readlinkSync(path.join(src, '@sluice', pkg)), path.join(dst, '@sluice', pkg));
  }
  for (const group of ['apps', 'libs']) {
    for (const ws of fs.readdirSync(path.join(ROOT, group))) {
      const nested = path.join(ROOT, group, ws, 'node_modules');
      if (fs.existsSync(nested) && fs.existsSync(path.join(clone, group, ws))) {
        fs.symlinkSync(nested, path.join(clone, group, ws, 'node_modules'));
      }
    }
  }
}

function npm(args: string[]): { status: number | null; out: string; seconds: number } {
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', '-s', ...args], { cwd: clone, env, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, seconds: (Date.now() - t0) / 1000 };
}

/** Pids of the three servers, read from where this home keeps them (the slot for PostgreSQL). */
function serverPids(): number[] {
  const pgRoot = fs.existsSync(pointerFile(home))
    ? path.join(fs.readFileSync(pointerFile(home), 'utf8').trim(), 'postgres')
    : path.join(home, 'postgres');
  return [
    readPid(path.join(pgRoot, 'data', 'postmaster.pid')),
    readPid(path.join(home, 'redis', 'redis.pid')),
    readPid(path.join(home, 'kafka', 'kafka.pid')),
  ].filter((p): p is number => p !== undefined);
}

/** Engine processes started for this home (the runtime puts their specs under <home>/instances). */
function enginePids(): number[] {
  const r = spawnSync(
    'pgrep',
    ['-f', `${ENGINE_PROGRAM_PATTERN} run --spec ${path.join(home, 'instances')}/`],
    {
      encoding: 'utf8',
    },
  );
  return r.stdout
    .split('\n')
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 0);
}

/** Whether any process is left in process group `pgid`. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose working directory is inside `dir` (the demo's dashboard, control plane, engines). */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) {
        const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        found.push(`${entry} ${cmd.slice(0, 200)}`);
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * `npm run demo` in the clone, in a process group of its own (what a terminal's foreground job
 * is, and so that afterAll can stop all of it if a test fails midway), its output collected.
 */
function startDemo() {
  const child = spawn('npm', ['run', 'demo'], {
    cwd: clone,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  demo = child;
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = true;
      resolve({ code, signal });
    }),
  );
  const until = async (what: string, ok: () => boolean | Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; demo output:\n${out.slice(-4000)}`);
      await sleep(250);
    }
  };
  return { pid: child.pid!, out: () => out, ended: () => ended, exited, until };
}

async function openPorts(): Promise<number[]> {
  const all = Object.values(ports);
  const open = await Promise.all(all.map((p) => portOpen(p)));
  return all.filter((_, i) => open[i]);
}

async function pgClient(): Promise<Client> {
  const c = new Client({ connectionString: `postgresql://sluice@127.0.0.1:${ports.pg}/sluice` });
  await c.connect();
  return c;
}

beforeAll(async () => {
  // mkdtemp makes the folder 0700, as `mktemp -d` does: only its owner may enter it.
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-clone-'));
  expect(fs.statSync(parent).mode & 0o777).toBe(0o700);
  clone = path.join(parent, 'clone');
  home = path.join(clone, '.sluice');
  const t0 = Date.now();
  const r = spawnSync('git', ['clone', '-q', ROOT, clone], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git clone failed: ${r.stderr}`);
  linkNodeModules();
  say(`cloned HEAD into ${clone} and linked node_modules (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const [pg, redis, kafka, controller, api, dashboard] = await freePorts(6);
  ports = {
    pg: pg!,
    redis: redis!,
    kafka: kafka!,
    controller: controller!,
    api: api!,
    dashboard: dashboard!,
  };
  env = Object.fromEntries(
    // Nothing of the shared stack's settings (the global setup exported them to this worker).
    Object.entries(process.env).filter(
      ([k]) => !/^(SLUICE_|DATABASE_URL$|REDIS_URL$|KAFKA_BROKERS$)/.test(k),
    ),
  );
  Object.assign(env, {
    SLUICE_HOME: home,
    SLUICE_PG_PORT: String(ports.pg),
    SLUICE_REDIS_PORT: String(ports.redis),
    SLUICE_KAFKA_PORT: String(ports.kafka),
    SLUICE_KAFKA_CONTROLLER_PORT: String(ports.controller),
    SLUICE_API_PORT: String(ports.api),
    SLUICE_DASHBOARD_PORT: String(ports.dashboard),
  });
});

afterAll(async () => {
  // Whatever a failed test left: the demo's process group, engines, then the servers.
  if (demo?.pid && groupAlive(demo.pid)) {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (!clone || !fs.existsSync(clone)) return;
  for (const pid of enginePids()) process.kill(pid, 'SIGKILL');
  // The dashboard runs in a session of its own; anything else still working in the clone too.
  for (const p of processesIn(clone)) {
    try {
      process.kill(Number(p.split(' ')[0]), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (serverPids().some(pidAlive)) npm(['stack:down']);
  const slot = fs.existsSync(pointerFile(home))
    ? fs.readFileSync(pointerFile(home), 'utf8').trim()
    : undefined;
  if (slot?.startsWith(`${SLOT_BASE}/`)) fs.rmSync(slot, { recursive: true, force: true });
  try {
    fs.rmdirSync(SLOT_BASE); // only when no other home keeps a slot there
  } catch {
    // not empty, or never created
  }
  fs.rmSync(parent, { recursive: true, force: true });
});

describe('a fresh clone in a folder only its owner can enter', () => {
  it('stack:up brings PostgreSQL, Redis and Kafka up, stack:status sees them, stack:down leaves nothing running', async () => {
    const up = npm(['stack:up']);
    say(`stack:up ${up.seconds.toFixed(1)} s`);
    expect(up.status, up.out).toBe(0);

    // As root the cluster lives in this home's slot, owned by postgres and closed to others;
    // otherwise PostgreSQL runs as the user and stays in the home.
    const c = await pgClient();
    const dataDir = (await c.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]
      ?.d;
    await c.end();
    if (isRoot()) {
      const slot = fs.readFileSync(pointerFile(home), 'utf8').trim();
      expect(path.dirname(slot)).toBe(SLOT_BASE);
      expect(fs.readFileSync(path.join(slot, 'owner'), 'utf8').trim()).toBe(home);
      expect(dataDir).toBe(path.join(slot, 'postgres', 'data'));
      const st = fs.statSync(path.join(slot, 'postgres'));
      expect(st.mode & 0o777).toBe(0o700);
      expect(st.uid).toBe(Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()));
      // The user's folder was left as it was.
      expect(fs.statSync(parent).mode & 0o777).toBe(0o700);
    } else {
      expect(dataDir).toBe(path.join(home, 'postgres', 'data'));
    }

    const status = npm(['stack:status']);
    expect(status.status, status.out).toBe(0);
    expect(status.out).toContain(`postgresql  127.0.0.1:${ports.pg}`);
    expect(status.out).toContain(dataDir);
    const pids = serverPids();
    expect(pids).toHaveLength(3);
    expect(pids.every(pidAlive)).toBe(true);

    const down = npm(['stack:down']);
    say(`stack:down ${down.seconds.toFixed(1)} s`);
    expect(down.status, down.out).toBe(0);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(await openPorts()).toEqual([]);
    const after = npm(['stack:status']);
    expect(after.status).toBe(1);
    // The three default components; the optional `kube` line (another stack's API server may hold
    // its port) is not part of a plain stack:up.
    expect(after.out.match(/^(postgresql|redis|kafka) +\S+ +down /gm)).toHaveLength(3);
  });

  it('npm run demo serves the dashboard at its printed URL (log in with the printed token: the demo query RUNNING); Ctrl-C stops the dashboard, the control plane and the stack', async () => {
    const d = startDemo();
    await d.until('"Sluice is up"', () => d.out().includes('Sluice is up') || d.ended(), 240_000);
    expect(d.out()).toContain('Sluice is up');
    const cpPid = Number(/control plane pid (\d+)/.exec(d.out())?.[1]);
    const token = /API token {3}(\S+)/.exec(d.out())?.[1];
    expect(token).toMatch(/^slc_/);
    // The dashboard is built in the background after the stack is up; its URL is printed when
    // it answers.
    await d.until(
      'the dashboard URL',
      () => /\[demo\] dashboard: http:\/\//.test(d.out()) || d.ended(),
      420_000,
    );
    const url = /\[demo\] dashboard: (http:\/\/\S+)/.exec(d.out())?.[1];
    expect(url).toBe(`http://127.0.0.1:${ports.dashboard}`);
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);

    // A user's first visit, in a real browser: the login page, the printed token, the query list.
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${url}/queries`);
      await page.waitForURL(`${url}/login`);
      await page.getByLabel('API token').fill(token!);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${url}/queries`);
      const row = page.locator('tr[data-query="demo-clicks-per-user"]');
      await row.waitFor({ timeout: 60_000 });
      await expect
        .poll(() => row.locator('.phase').textContent(), { timeout: 120_000, interval: 500 })
        .toBe('RUNNING');
    } finally {
      await browser.close();
    }

    const engines = enginePids();
    const servers = serverPids();
    expect(engines.length).toBeGreaterThan(0);
    expect(servers).toHaveLength(3);
    // What a terminal's Ctrl-C does: SIGINT to the foreground process group (npm and the demo
    // scripts). The dashboard and the control plane run in groups of their own; the demo stops them.
    const tInt = Date.now();
    process.kill(-d.pid, 'SIGINT');
    await d.until('every process of the demo group to end', () => !groupAlive(d.pid), 180_000);
    say(`demo group gone ${((Date.now() - tInt) / 1000).toFixed(1)} s after SIGINT`);
    expect(d.out()).toContain('stopping the control plane');
    expect(d.out()).toContain('stopping what the demo started: postgresql, redis, kafka');
    expect([cpPid, ...engines, ...servers].filter(pidAlive)).toEqual([]);
    expect(processesIn(clone), 'processes still running in the clone').toEqual([]);
    expect(await openPorts()).toEqual([]);
  }, 900_000);

  it('npm run demo comes up; when its control plane is killed with SIGKILL it says so, stops what it started and exits 1', async () => {
    const t0 = Date.now();
    const d = startDemo();
    await d.until('"Sluice is up"', () => d.out().includes('Sluice is up') || d.ended(), 240_000);
    expect(d.out()).toContain('Sluice is up');
    say(`npm run demo up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const cpPid = Number(/control plane pid (\d+)/.exec(d.out())?.[1]);
    expect(pidAlive(cpPid)).toBe(true);
    // The demo query runs: engines were started and results reach PostgreSQL.
    await d.until('an engine process', () => enginePids().length > 0, 60_000);
    // Results go to the sink database the demo names (not the control plane's own).
    const sinkUrl = /results: table demo_clicks_per_user in (\S+)/.exec(d.out())?.[1];
    expect(sinkUrl).toContain(`:${ports.pg}/`);
    await d.until(
      'rows in demo_clicks_per_user',
      async () => {
        const c = new Client({ connectionString: sinkUrl });
        await c.connect();
        try {
          const r = await c
            .query<{ n: string }>('SELECT count(*) AS n FROM demo_clicks_per_user')
            .catch(() => ({ rows: [{ n: '0' }] }));
          return Number(r.rows[0]?.n) > 0;
        } finally {
          await c.end();
        }
      },
      90_000,
    );
    const engines = enginePids();
    const servers = serverPids();
    expect(servers).toHaveLength(3);

    const tKill = Date.now();
    process.kill(cpPid, 'SIGKILL');
    const end = await Promise.race([d.exited, sleep(120_000).then(() => undefined)]);
    say(`demo exited ${((Date.now() - tKill) / 1000).toFixed(1)} s after the kill`);
    expect(
      end,
      `the demo did not exit within 120 s of the kill; output:\n${d.out().slice(-4000)}`,
    ).toBeDefined();
    expect(end?.code).toBe(1);
    expect(d.out()).toContain('the control plane was killed by SIGKILL');
    expect(d.out()).toContain('stopping what the demo started: postgresql, redis, kafka');

    expect([cpPid, ...engines, ...servers].filter(pidAlive)).toEqual([]);
    expect(enginePids()).toEqual([]);
    // The dashboard (built or still building in the background) went with it.
    await d.until(
      'the demo group and the dashboard to end',
      () => !groupAlive(d.pid) && processesIn(clone).length === 0,
      30_000,
    );
    expect(await openPorts()).toEqual([]);
  });
});
