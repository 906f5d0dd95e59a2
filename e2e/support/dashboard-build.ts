// Builds the dashboard (`next build`) when its build is missing or made from other sources,
// and starts it (`next start`) on a port. Shared by the e2e suite and bench:dashboard.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const DASHBOARD = path.join(ROOT, 'apps', 'dashboard');
const NEXT_BIN = path.join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
const BUILD_ID = path.join(DASHBOARD, '.next', 'BUILD_ID');

const STAMP = path.join(DASHBOARD, '.next', 'sluice-sources.sha256');

/** Paths and contents of every source file under dir, into the hash (not .next or node_modules). */
function hashSources(dir: string, hash: crypto.Hash): void {
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name === '.next' || entry.name === 'node_modules' || entry.name === 'next-env.d.ts') continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) hashSources(p, hash);
    else
      hash
        .update(`${path.relative(ROOT, p)}\0`)
        .update(fs.readFileSync(p))
        .update('\0');
  }
}

/**
 * `next build` unless the last build was made from exactly these sources (the dashboard, the
 * query-plan and contracts libraries it compiles, the lockfile). A content hash, taken before the build starts:
 * a file edited during a build makes the next run build again (file times would not).
 */
export function ensureDashboardBuilt(log: (m: string) => void): void {
  const hash = crypto.createHash('sha256');
  hashSources(DASHBOARD, hash);
  hashSources(path.join(ROOT, 'libs', 'query-plan', 'src'), hash);
  hashSources(path.join(ROOT, 'libs', 'contracts', 'src'), hash);
  hash.update(fs.readFileSync(path.join(ROOT, 'package-lock.json')));
  const want = hash.digest('hex');
  if (fs.existsSync(BUILD_ID) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === want) {
    log('dashboard build is up to date');
    return;
  }
  log('building the dashboard (next build; one to several minutes)');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [NEXT_BIN, 'build'], {
    cwd: DASHBOARD,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
  fs.writeFileSync(STAMP, want);
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
