// The real control plane (the same entry point as `npm run control-plane`) as a child process,
// for the suites that must kill, restart or run several of them (leadership, alerting-leader,
// resilience, upgrade-resume, the Kubernetes ones through kube-control-plane.ts), the
// schemathesis fuzz run and the e2e suite; plus what those
// suites look at from outside: its HTTP API and the engine processes it started.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '@sluice/testing';
import { ENGINE_PROGRAM_PATTERN } from '../../src/runtime/engine-bundle';

// Not imported from test-app.ts: that one loads the whole Nest app, which the schemathesis and
// e2e runners that use this module do not need.
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const STAND_IN_ENGINE = path.join(__dirname, '..', 'fixtures', 'stand-in-engine.cjs');

export interface ControlPlaneProcess {
  /** POD_NAME it runs as (its replica name), when one was given. */
  name: string | undefined;
  port: number;
  base: string;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** SIGKILL, as a crash: waits for the exit; the engines it started keep running. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s), then SIGKILL of the engines under its SLUICE_HOME. */
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** The whole environment of the process (start from process.env). */
  env: NodeJS.ProcessEnv;
  /** SLUICE_HOME: the local runtime's state, where its engines' pid files are. */
  home: string;
  /** Replica name (POD_NAME). */
  name?: string;
  /** Default: a free port. */
  port?: number;
  /** Its stdout and stderr go here; by default stdout is dropped and stderr is the test's. */
  logFile?: string;
  /** Default 90 s: two cores shared with other suites make a cold start slow. */
  readyTimeoutMs?: number;
}

/** The environment that makes the local runtime start the stand-in engine (test/fixtures). */
export const STAND_IN_ENGINE_ENV = {
  SLUICE_ENGINE_COMMAND: JSON.stringify([process.execPath, STAND_IN_ENGINE]),
};

/** Starts a control plane and waits until its /readyz answers 200 (or throws, naming its log). */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlaneProcess> {
  const port = opts.port ?? (await freePort());
  const log = opts.logFile === undefined ? undefined : fs.openSync(opts.logFile, 'w');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...opts.env,
      SLUICE_API_PORT: String(port),
      SLUICE_HOME: opts.home,
      ...(opts.name === undefined ? {} : { POD_NAME: opts.name }),
    },
    stdio: ['ignore', log ?? 'ignore', log ?? 'inherit'],
  });
  if (log !== undefined) fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const cp: ControlPlaneProcess = {
    name: opts.name,
    port,
    base,
    exited,
    kill: async () => {
      if (!gone(child)) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      await terminate(child, exited);
      killEngines(opts.home);
    },
  };
  const where = opts.logFile ? ` (log: ${opts.logFile})` : '';
  try {
    await waitUntilReady(base, exited, opts.readyTimeoutMs ?? 90_000, where);
  } catch (e) {
    await cp.stop();
    throw e;
  }
  return cp;
}

/** A JSON (or YAML, for a string body) API call with a bearer token; the status and parsed body. */
export async function apiCall<T>(
  base: string,
  token: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined
        ? { 'Content-Type': typeof body === 'string' ? 'application/yaml' : 'application/json' }
        : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/**
 * apiCall for a call that must succeed: the parsed body of a 2xx answer, or an error naming the
 * call, the control plane (by replica name when it has one) and what it answered.
 */
export async function apiOk<T>(
  cp: { base: string; name?: string },
  token: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<T> {
  const res = await apiCall<T>(cp.base, token, method, url, body);
  if (res.status >= 300)
    throw new Error(`${method} ${url} on ${cp.name ?? cp.base}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Live engines of one query under `home`, by instance name → pid (from their pid files). */
export function liveEngines(home: string, queryId: string): Record<string, number> {
  const dir = path.join(home, 'instances', queryId);
  if (!fs.existsSync(dir)) return {};
  const live: Record<string, number> = {};
  for (const name of fs.readdirSync(dir)) {
    const pidFile = path.join(dir, name, 'pid');
    if (!fs.existsSync(pidFile)) continue;
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    try {
      process.kill(pid, 0);
      live[name] = pid;
    } catch {
      // exited: not live
    }
  }
  return live;
}

/**
 * Engine processes of one query counted by the OS (a duplicate start shows here, where a pid file
 * would be overwritten). `engine` is what their command line starts with: the stand-in fixture
 * or the real engine's CLI.
 */
export function engineProcessCount(home: string, queryId: string, engine: 'stand-in' | 'real'): number {
  const program = engine === 'stand-in' ? 'stand-in-engine.cjs.*' : `${ENGINE_PROGRAM_PATTERN} run --spec `;
  const r = spawnSync('pgrep', ['-f', `${program}${path.join(home, 'instances', queryId)}/`], {
    encoding: 'utf8',
  });
  return r.stdout.split('\n').filter(Boolean).length;
}

function gone(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitUntilReady(
  base: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  where: string,
): Promise<void> {
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (code !== undefined)
      throw new Error(`control plane exited with code ${code} before it was ready${where}`);
    // A slow answer is waited for (a loaded machine answers /readyz in seconds), a hung one not.
    const ok = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`control plane not ready on ${base}/readyz after ${timeoutMs / 1000} s${where}`);
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (gone(child)) return;
  child.kill('SIGTERM');
  // Suites throw its database and Redis index away next, so a drain that waits for an operation
  // in flight (its own guard allows 30 s) is not worth waiting for.
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Engines are detached and outlive the control plane; each one's pid file is under <home>/instances. */
export function killEngines(home: string): void {
  const instances = path.join(home, 'instances');
  if (!fs.existsSync(instances)) return;
  for (const query of fs.readdirSync(instances)) {
    for (const instance of fs.readdirSync(path.join(instances, query))) {
      const pidFile = path.join(instances, query, instance, 'pid');
      if (!fs.existsSync(pidFile)) continue;
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      // Only a process that is still this instance's engine: a pid may be reused once it exits.
      if (Number.isInteger(pid) && pid > 0 && commandLine(pid).includes(instances)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    }
  }
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}
