// Builds the dashboard (`next build`) when its build is missing or older than any of its sources,
// and starts it (`next start`) on a port. Shared by the e2e suite and bench:dashboard.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const DASHBOARD = path.join(ROOT, 'apps', 'dashboard');
const NEXT_BIN = path.join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
const BUILD_ID = path.join(DASHBOARD, '.next', 'BUILD_ID');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '.next' || entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** `next build` unless the last build is newer than every source file (and the shared query-plan lib). */
export function ensureDashboardBuilt(log: (m: string) => void): void {
  const built = fs.existsSync(BUILD_ID) ? fs.statSync(BUILD_ID).mtimeMs : 0;
  const sources = Math.max(
    newestSource(DASHBOARD),
    newestSource(path.join(ROOT, 'libs', 'query-plan', 'src')),
    fs.statSync(path.join(ROOT, 'package-lock.json')).mtimeMs,
  );
  if (built > sources) {
    log('dashboard build is up to date');
    return;
  }
  log('building the dashboard (next build; about a minute)');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [NEXT_BIN, 'build'], {
    cwd: DASHBOARD,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
  log(`dashboard built in ${Math.round((Date.now() - t0) / 1000)} s`);
}

export interface RunningDashboard {
  base: string;
  stop(): Promise<void>;
}

/** `next start` on 127.0.0.1:port against the control plane at apiUrl; resolves once it answers. */
export async function startDashboard(opts: {
  port: number;
  apiUrl: string;
  logFile: string;
}): Promise<RunningDashboard> {
  const log = fs.openSync(opts.logFile, 'w');
  const child: ChildProcess = spawn(
    process.execPath,
    [NEXT_BIN, 'start', '-p', String(opts.port), '-H', '127.0.0.1'],
    {
      cwd: DASHBOARD,
      env: { ...process.env, SLUICE_API_URL: opts.apiUrl, NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', log, log],
    },
  );
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${opts.port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`next start exited (${child.exitCode}); log: ${opts.logFile}`);
    const ok = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { base, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dashboard not answering on ${base} after 60 s; log: ${opts.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
