// Runs engine instances as local processes (demo and tests). Each instance has a state folder
// `.sluice/instances/<queryId>/<name>/` with its spec, pid file and log, so a restarted control
// plane adopts the processes that still run instead of starting duplicates.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { engineEnvironment } from './engine-env';
import type { InstanceLaunch, RuntimeDriver, RuntimeInstance } from './runtime-driver';

interface InstanceFiles {
  dir: string;
  pid: string;
  meta: string;
  log: string;
  spec: string;
  exit: string;
  drain: string;
}

interface Meta {
  version: number;
}

export interface LocalRuntimeOptions {
  home: string;
  /** Command + leading args that run the engine CLI, e.g. [node, -r, ..., apps/engine/src/cli.ts]. */
  engineCommand: string[];
  cwd: string;
  env?: Record<string, string>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class LocalProcessRuntime implements RuntimeDriver {
  readonly kind = 'local' as const;

  constructor(private readonly opts: LocalRuntimeOptions) {}

  private files(queryId: string, name: string): InstanceFiles {
    const dir = path.join(this.opts.home, 'instances', queryId, name);
    const f = (n: string) => path.join(dir, n);
    return { dir, pid: f('pid'), meta: f('meta.json'), log: f('engine.log'), spec: f('spec.yaml'), exit: f('exit'), drain: f('drain-requested') };
  }

  private readPid(f: InstanceFiles): number | undefined {
    try {
      const n = Number(fs.readFileSync(f.pid, 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  private describe(name: string, f: InstanceFiles): RuntimeInstance | undefined {
    if (!fs.existsSync(f.meta)) return undefined;
    const meta = JSON.parse(fs.readFileSync(f.meta, 'utf8')) as Meta;
    const pid = this.readPid(f);
    const drained = fs.existsSync(f.drain);
    if (pid !== undefined && alive(pid)) {
      return { name, ref: `pid:${pid}`, version: meta.version, state: 'running', exitCode: null, drained, exitedAt: null };
    }
    let exitCode: number | null = null;
    let exitedAt: Date | null = null;
    if (fs.existsSync(f.exit)) {
      const rec = JSON.parse(fs.readFileSync(f.exit, 'utf8')) as { code: number | null; at: string };
      exitCode = rec.code;
      exitedAt = new Date(rec.at);
    } else {
      exitedAt = fs.statSync(f.meta).mtime; // adopted process died while nobody watched
    }
    return { name, ref: `pid:${pid ?? '?'}`, version: meta.version, state: 'exited', exitCode, drained, exitedAt };
  }

  async start(l: InstanceLaunch): Promise<RuntimeInstance> {
    const f = this.files(l.queryId, l.instanceName);
    const existing = this.describe(l.instanceName, f);
    if (existing?.state === 'running') return existing;
    fs.rmSync(f.dir, { recursive: true, force: true });
    fs.mkdirSync(f.dir, { recursive: true });
    fs.writeFileSync(f.spec, l.specText);
    fs.writeFileSync(f.meta, JSON.stringify({ version: l.version } satisfies Meta));
    const out = fs.openSync(f.log, 'a');
    const [cmd, ...pre] = this.opts.engineCommand;
    if (!cmd) throw new Error('engine command is empty');
    const child = spawn(
      cmd,
      [...pre, 'run', '--spec', f.spec, '--checkpoint', l.checkpointUri, '--instance-id', l.instanceName, '--query-id', l.queryId, '--brokers', l.brokers, '--query-version', String(l.version), ...(l.rateLimit ? ['--rate-limit', String(l.rateLimit)] : [])],
      // Detached: an instance outlives a control-plane restart and is adopted through its pid file.
      { cwd: this.opts.cwd, env: engineEnvironment(process.env, this.opts.env, l.sinkPostgresUrl), stdio: ['ignore', out, out], detached: true },
    );
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not spawn ${cmd}`);
    fs.writeFileSync(f.pid, String(child.pid));
    child.on('exit', (code, signal) => {
      const rec = { code: code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : null), at: new Date().toISOString() };
      try {
        fs.writeFileSync(f.exit, JSON.stringify(rec));
      } catch {
        // folder removed by forget(); nothing to record
      }
    });
    child.unref();
    return { name: l.instanceName, ref: `pid:${child.pid}`, version: l.version, state: 'running', exitCode: null, drained: false, exitedAt: null };
  }

  private signal(queryId: string, name: string, sig: NodeJS.Signals): void {
    const f = this.files(queryId, name);
    const pid = this.readPid(f);
    if (pid === undefined || !alive(pid)) return;
    if (sig === 'SIGTERM') fs.writeFileSync(f.drain, new Date().toISOString());
    process.kill(pid, sig);
  }

  async drain(queryId: string, name: string): Promise<void> {
    this.signal(queryId, name, 'SIGTERM');
  }

  async kill(queryId: string, name: string): Promise<void> {
    this.signal(queryId, name, 'SIGKILL');
  }

  async list(queryId: string): Promise<RuntimeInstance[]> {
    const dir = path.join(this.opts.home, 'instances', queryId);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .sort()
      .map((name) => this.describe(name, this.files(queryId, name)))
      .filter((i): i is RuntimeInstance => i !== undefined);
  }

  async remove(queryId: string): Promise<void> {
    for (const i of await this.list(queryId)) await this.forget(queryId, i.name);
  }

  async forget(queryId: string, name: string): Promise<void> {
    const f = this.files(queryId, name);
    if (this.describe(name, f)?.state === 'running') throw new Error(`instance ${name} still runs; drain it first`);
    // Keep the log beside the instances folder so a crash can still be read after cleanup.
    if (fs.existsSync(f.log)) {
      const keep = path.join(this.opts.home, 'logs', queryId);
      fs.mkdirSync(keep, { recursive: true });
      fs.renameSync(f.log, path.join(keep, `${name}-${Date.now()}.log`));
    }
    fs.rmSync(f.dir, { recursive: true, force: true });
  }

  logPath(queryId: string, name: string): string {
    return this.files(queryId, name).log;
  }
}
