// Runs the real control plane (the same entry point as `npm run control-plane`) as a child
// process for the fuzz run, and stops it, and the engine processes it started, afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ControlPlaneProcess {
  base: string;
  stop(): Promise<void>;
}

export async function startControlPlane(opts: {
  env: NodeJS.ProcessEnv;
  port: number;
  home: string;
  logFile: string;
  readyTimeoutMs: number;
}): Promise<ControlPlaneProcess> {
  const log = fs.openSync(opts.logFile, 'w');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env: opts.env,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${opts.port}`;
  const stop = async () => {
    await terminate(child, exited);
    killEngines(opts.home);
  };
  try {
    await waitUntilReady(base, exited, opts.readyTimeoutMs, opts.logFile);
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, stop };
}

async function waitUntilReady(
  base: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone !== undefined)
      throw new Error(`control plane exited with code ${gone} before it was ready (log: ${logFile})`);
    const ok = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`control plane not ready on ${base}/readyz after ${timeoutMs / 1000} s (log: ${logFile})`);
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  // Its database and Redis index are thrown away next, so a drain that waits for an operation in
  // flight (its own guard allows 30 s) is not worth waiting for.
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Engines are detached and outlive the control plane; each one's pid file is under <home>/instances. */
function killEngines(home: string): void {
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
