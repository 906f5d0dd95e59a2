// Runs engine instances as local processes (demo and tests). Each instance has a state folder
// `.sluice/instances/<queryId>/<name>/` with its spec, pid file and logs, so a restarted control
// plane adopts the processes that still run instead of starting duplicates. Logs outlive
// restarts (engine.log, engine.log.1, … see engine-log.ts): a restart after a crash must not
// delete the only record of why it crashed.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { engineNodeFlagsOfText } from '@sluice/query-plan';
import {
  applyCpuLimit,
  checkCpuLimit,
  clearCpuLimit,
  cpuLimitReport,
  removeCpuGroup,
  type CpuLimitReport,
} from './cpu-limit';
import { crashReasonFromLog } from './crash-reason';
import { capLog, ENGINE_LOG_FILES, ENGINE_LOG_MAX_BYTES, logFiles, readTail, rotateLog } from './engine-log';
import { engineEnvironment } from './engine-env';
import { withEngineNodeFlags } from './engine-node-flags';
import {
  checkpointLineageArgs,
  type InstanceLaunch,
  type RuntimeDriver,
  type RuntimeInstance,
  type StandbyState,
} from './runtime-driver';

interface InstanceFiles {
  dir: string;
  pid: string;
  meta: string;
  log: string;
  spec: string;
  exit: string;
  drain: string;
  cpuLimit: string;
  /** The engine's --work-dir (an lmdb state store's files); removed with the instance. */
  work: string;
}

/** cpu-limit.json: the report the instance view shows, and the group to lift or remove. */
interface CpuLimitFile extends CpuLimitReport {
  group?: string;
}

interface Meta {
  version: number;
  checkpointEpoch?: number;
}

export interface LocalRuntimeOptions {
  home: string;
  /**
   * Command + leading args that run the engine CLI, e.g. [node, .sluice/engine-bundle/engine-….js],
   * or a function resolving it at each start (the bundle of the sources as they are then).
   */
  engineCommand: string[] | (() => Promise<string[]>);
  cwd: string;
  env?: Record<string, string>;
  /** Log files kept per instance (engine.log and the rotated ones); default ENGINE_LOG_FILES. */
  logFiles?: number;
  /** Bound of each log file; default ENGINE_LOG_MAX_BYTES. */
  logMaxBytes?: number;
}

/**
 * A pre-started engine that is never released stops by itself after this long (an upgrade that
 * failed before its start step, or a control plane that died and spawned afresh).
 */
export const STANDBY_TIMEOUT_SECONDS = 600;
/** The line a pre-started engine logs once prepared (engine query-runner.ts standBy). */
const STANDBY_READY_LINE = '"msg":"engine standing by"';

/** A pre-started engine of this control plane, waiting in its instance folder (standby.*). */
interface Standby {
  child: ChildProcess;
  /** The launch it was started for: only the same launch releases it. */
  launch: string;
  /** The checkpoint lineage it will run on (a new checkpoint's differs from its predecessor's). */
  checkpointEpoch: number;
  promoted: boolean;
}

/** The files of a standby in its instance folder; forget keeps them for a new lineage's standby. */
const STANDBY_FILES = ['standby.pid', 'standby.log', 'standby.spec.yaml'];

/**
 * Whether forgetting an exited instance keeps the standby of its name: only one of another
 * checkpoint lineage (a new-checkpoint upgrade holds the query stopped between the old
 * instances' exit and the new ones' start, and the reconciler forgets the old ones meanwhile).
 * A standby of the same lineage was meant to follow that very instance, which is not coming back
 * (stopped or scaled in): it goes.
 */
export function keepsStandbyOnForget(standbyEpoch: number, instanceEpoch: number | undefined): boolean {
  return standbyEpoch !== (instanceEpoch ?? 0);
}

/** Archived logs kept per query after its instances are forgotten (oldest removed first). */
const ARCHIVED_LOGS_PER_QUERY = 50;

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

  private readonly exitListeners: Array<(queryId: string, instanceName: string) => void> = [];
  /** Pre-started engines by `<queryId>/<name>` (only this process can release its own). */
  private readonly standbys = new Map<string, Standby>();

  constructor(private readonly opts: LocalRuntimeOptions) {}

  onExit(listener: (queryId: string, instanceName: string) => void): void {
    this.exitListeners.push(listener);
  }

  private get keepLogs(): number {
    return Math.max(1, this.opts.logFiles ?? ENGINE_LOG_FILES);
  }

  private files(queryId: string, name: string): InstanceFiles {
    const dir = path.join(this.opts.home, 'instances', queryId, name);
    const f = (n: string) => path.join(dir, n);
    return {
      dir,
      pid: f('pid'),
      meta: f('meta.json'),
      log: f('engine.log'),
      spec: f('spec.yaml'),
      exit: f('exit'),
      drain: f('drain-requested'),
      cpuLimit: f('cpu-limit.json'),
      work: f('work'),
    };
  }

  private readPid(f: InstanceFiles): number | undefined {
    try {
      const n = Number(fs.readFileSync(f.pid, 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  private readCpuLimit(f: InstanceFiles): CpuLimitFile | null {
    try {
      return JSON.parse(fs.readFileSync(f.cpuLimit, 'utf8')) as CpuLimitFile;
    } catch {
      return null;
    }
  }

  /** The report without the cgroup path (an implementation detail of this machine). */
  private cpuLimitOf(f: InstanceFiles): CpuLimitReport | null {
    const file = this.readCpuLimit(f);
    if (!file) return null;
    const { group: _group, ...report } = file;
    return report;
  }

  private describe(name: string, f: InstanceFiles): RuntimeInstance | undefined {
    if (!fs.existsSync(f.meta)) return undefined;
    const meta = JSON.parse(fs.readFileSync(f.meta, 'utf8')) as Meta;
    const pid = this.readPid(f);
    const drained = fs.existsSync(f.drain);
    if (pid !== undefined && alive(pid)) {
      return {
        name,
        ref: `pid:${pid}`,
        version: meta.version,
        checkpointEpoch: meta.checkpointEpoch ?? 0,
        state: 'running',
        exitCode: null,
        drained,
        exitedAt: null,
        cpuLimit: this.cpuLimitOf(f),
      };
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
    // Read only for an abnormal exit: a drained or clean stop has no crash to explain.
    const lastError = !drained && exitCode !== 0 ? (crashReasonFromLog(readTail(f.log)) ?? null) : null;
    return {
      name,
      ref: `pid:${pid ?? '?'}`,
      version: meta.version,
      checkpointEpoch: meta.checkpointEpoch ?? 0,
      state: 'exited',
      exitCode,
      drained,
      exitedAt,
      lastError,
      cpuLimit: this.cpuLimitOf(f),
    };
  }

  async start(l: InstanceLaunch): Promise<RuntimeInstance> {
    // Resolved first (a bundle build takes seconds): the state files below are written and the
    // process spawned with no wait between, so nobody lists a half-started instance as exited.
    const command = await this.commandFor(l);
    const f = this.files(l.queryId, l.instanceName);
    const existing = this.describe(l.instanceName, f);
    if (existing?.state === 'running') return existing;
    const standby = this.takeStandby(l);
    // A fresh run: the previous run's state files go, its log is rotated (kept).
    for (const file of [f.pid, f.exit, f.drain, f.meta, f.spec, f.cpuLimit]) fs.rmSync(file, { force: true });
    fs.mkdirSync(f.dir, { recursive: true });
    rotateLog(f.log, this.keepLogs);
    const meta = JSON.stringify({
      version: l.version,
      checkpointEpoch: l.checkpointEpoch ?? 0,
    } satisfies Meta);
    let child: ChildProcess;
    if (standby) {
      // Released: its log (an open descriptor follows the rename) and spec become the instance's.
      fs.renameSync(this.standbyFile(f, 'log'), f.log);
      fs.renameSync(this.standbyFile(f, 'spec'), f.spec);
      fs.writeFileSync(f.meta, meta);
      child = standby.child;
      standby.promoted = true;
      fs.writeFileSync(f.pid, String(child.pid));
      fs.rmSync(this.standbyFile(f, 'pid'), { force: true });
      process.kill(child.pid!, 'SIGUSR2');
    } else {
      fs.writeFileSync(f.spec, l.specText);
      fs.writeFileSync(f.meta, meta);
      child = this.spawnEngine(command, l, f.spec, f.log);
      fs.writeFileSync(f.pid, String(child.pid));
      this.watchExit(child, l, f, () => true);
    }
    const requested = l.cpuLimit ?? null;
    this.writeCpuLimit(f, child.pid!, requested, `${l.queryId}-${l.instanceName}`);
    return {
      name: l.instanceName,
      ref: `pid:${child.pid}`,
      version: l.version,
      checkpointEpoch: l.checkpointEpoch ?? 0,
      state: 'running',
      exitCode: null,
      drained: false,
      exitedAt: null,
      cpuLimit: this.cpuLimitOf(f),
    };
  }

  /**
   * Pre-starts `l` in the folder of the instance that still runs (files standby.*): connected and
   * prepared, it waits for SIGUSR2, which `start` of the same launch sends once the old instance
   * has exited (the reconciler starts a successor only then). A standby of another launch goes.
   */
  async prestart(l: InstanceLaunch): Promise<void> {
    const command = await this.commandFor(l);
    const key = `${l.queryId}/${l.instanceName}`;
    const launch = JSON.stringify(l);
    const current = this.standbys.get(key);
    if (
      current &&
      current.launch === launch &&
      current.child.exitCode === null &&
      current.child.signalCode === null
    )
      return;
    this.dropStandby(l.queryId, l.instanceName);
    const f = this.files(l.queryId, l.instanceName);
    fs.mkdirSync(f.dir, { recursive: true });
    fs.writeFileSync(this.standbyFile(f, 'spec'), l.specText);
    const child = this.spawnEngine(command, l, this.standbyFile(f, 'spec'), this.standbyFile(f, 'log'), [
      '--standby',
      String(STANDBY_TIMEOUT_SECONDS),
    ]);
    fs.writeFileSync(this.standbyFile(f, 'pid'), String(child.pid));
    const standby: Standby = { child, launch, checkpointEpoch: l.checkpointEpoch ?? 0, promoted: false };
    this.standbys.set(key, standby);
    this.watchExit(child, l, f, () => standby.promoted);
  }

  /** Not released and still running. */
  private waiting(s: Standby): boolean {
    return !s.promoted && s.child.exitCode === null && s.child.signalCode === null;
  }

  async standbyState(queryId: string, name: string): Promise<StandbyState> {
    const s = this.standbys.get(`${queryId}/${name}`);
    if (!s || !this.waiting(s)) return 'gone';
    return readTail(this.standbyFile(this.files(queryId, name), 'log')).includes(STANDBY_READY_LINE)
      ? 'ready'
      : 'preparing';
  }

  private standbyFile(f: InstanceFiles, kind: 'pid' | 'log' | 'spec'): string {
    return path.join(f.dir, kind === 'spec' ? 'standby.spec.yaml' : `standby.${kind}`);
  }

  /** The waiting standby of exactly this launch (removed from the map), else undefined; others stop. */
  private takeStandby(l: InstanceLaunch): Standby | undefined {
    const key = `${l.queryId}/${l.instanceName}`;
    const s = this.standbys.get(key);
    const waiting =
      s &&
      !s.promoted &&
      s.child.exitCode === null &&
      s.child.signalCode === null &&
      s.child.pid !== undefined;
    // Only once prepared: its SIGUSR2 handler is installed by then (earlier, the signal's default
    // action would end it), and a standby still connecting would gain nothing over a fresh start.
    const ready =
      waiting &&
      readTail(this.standbyFile(this.files(l.queryId, l.instanceName), 'log')).includes(STANDBY_READY_LINE);
    if (ready && s.launch === JSON.stringify(l)) {
      this.standbys.delete(key);
      return s;
    }
    this.dropStandby(l.queryId, l.instanceName);
    return undefined;
  }

  /**
   * Stops a standby that will not be released: ours by its handle, one left by an earlier control
   * plane by its pid file (SIGTERM: it has joined nothing and written nothing, and exits 0).
   */
  private dropStandby(queryId: string, name: string): void {
    const key = `${queryId}/${name}`;
    const s = this.standbys.get(key);
    this.standbys.delete(key);
    if (s && !s.promoted) s.child.kill('SIGTERM');
    const f = this.files(queryId, name);
    const pidFile = this.standbyFile(f, 'pid');
    if (!s && fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) process.kill(pid, 'SIGTERM');
    }
    for (const kind of ['pid', 'spec'] as const) fs.rmSync(this.standbyFile(f, kind), { force: true });
  }

  /**
   * The command that runs `l`'s engine: the engine command as it resolves now, with the node flags
   * of its spec right after node (an lmdb query's bound on V8's heap growth, engine-node-flags.ts).
   */
  private async commandFor(l: InstanceLaunch): Promise<string[]> {
    const command =
      typeof this.opts.engineCommand === 'function'
        ? await this.opts.engineCommand()
        : this.opts.engineCommand;
    return withEngineNodeFlags(command, engineNodeFlagsOfText(l.specText));
  }

  private spawnEngine(
    command: string[],
    l: InstanceLaunch,
    specPath: string,
    logPath: string,
    extra: string[] = [],
  ): ChildProcess {
    const out = fs.openSync(logPath, 'a');
    const [cmd, ...pre] = command;
    if (!cmd) throw new Error('engine command is empty');
    const child = spawn(
      cmd,
      [
        ...pre,
        'run',
        '--spec',
        specPath,
        '--checkpoint',
        l.checkpointUri,
        '--instance-id',
        l.instanceName,
        '--query-id',
        l.queryId,
        '--brokers',
        l.brokers,
        '--work-dir',
        // A standby and the instance it succeeds share the folder: the standby opens no state
        // before its release, which comes after the predecessor has exited.
        this.files(l.queryId, l.instanceName).work,
        '--query-version',
        String(l.version),
        ...(l.rateLimit ? ['--rate-limit', String(l.rateLimit)] : []),
        ...checkpointLineageArgs(l),
        ...extra,
      ],
      // Detached: an instance outlives a control-plane restart and is adopted through its pid file.
      {
        cwd: this.opts.cwd,
        env: engineEnvironment(process.env, this.opts.env, l.sinkPostgresUrl, l.tablePostgresUrls),
        stdio: ['ignore', out, out],
        detached: true,
      },
    );
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not spawn ${cmd}`);
    child.unref();
    return child;
  }

  /** Records the exit of `child` as the instance's, once `isInstance()` (a standby: once released). */
  private watchExit(
    child: ChildProcess,
    l: InstanceLaunch,
    f: InstanceFiles,
    isInstance: () => boolean,
  ): void {
    child.on('exit', (code, signal) => {
      if (!isInstance()) {
        // A standby that stopped unreleased: its files go, its log stays for reading.
        const key = `${l.queryId}/${l.instanceName}`;
        const current = this.standbys.get(key);
        // A newer standby of the name (a pre-start of another launch) owns the files now.
        if (current && current.child !== child) return;
        this.standbys.delete(key);
        for (const kind of ['pid', 'spec'] as const) fs.rmSync(this.standbyFile(f, kind), { force: true });
        this.removeIfNoInstance(l.queryId, l.instanceName);
        return;
      }
      // The group as it is now: a limit set while the instance ran made one after the start.
      const group = this.readCpuLimit(f)?.group;
      if (group) removeCpuGroup(group);
      const rec = {
        code: code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : null),
        at: new Date().toISOString(),
      };
      try {
        fs.writeFileSync(f.exit, JSON.stringify(rec));
      } catch {
        // folder removed by forget(); nothing to record
      }
      // After the exit file: a listener that lists the instance sees how it ended.
      for (const listener of this.exitListeners) listener(l.queryId, l.instanceName);
    });
  }

  /** Applies (or lifts, for null) the limit of process `pid` and records the outcome. */
  private writeCpuLimit(f: InstanceFiles, pid: number, cpus: number | null, groupName: string): void {
    const previous = this.readCpuLimit(f);
    let file: CpuLimitFile;
    if (cpus === null) {
      const lifted = previous?.group ? clearCpuLimit(previous.group) : { cleared: true as const };
      file = lifted.cleared
        ? { ...cpuLimitReport(null, null), ...(previous?.group ? { group: previous.group } : {}) }
        : {
            ...previous,
            requested: null,
            applied: true,
            reason: `could not lift the limit: ${lifted.reason}`,
          };
    } else {
      const result = applyCpuLimit(pid, checkCpuLimit(cpus), groupName);
      file = { ...cpuLimitReport(cpus, result), ...(result.applied ? { group: result.group } : {}) };
    }
    fs.writeFileSync(f.cpuLimit, JSON.stringify(file));
  }

  /**
   * Changes the CPU limit of a running instance in place (as a Kubernetes in-place pod resize
   * does): the query's limit changed, and a restart would cost a rebalance for nothing.
   */
  async setCpuLimit(queryId: string, name: string, cpus: number | null): Promise<void> {
    const f = this.files(queryId, name);
    const pid = this.readPid(f);
    if (pid === undefined || !alive(pid)) return;
    this.writeCpuLimit(f, pid, cpus, `${queryId}-${name}`);
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
    const out: RuntimeInstance[] = [];
    for (const name of fs.readdirSync(dir).sort()) {
      const f = this.files(queryId, name);
      const i = this.describe(name, f);
      if (!i) continue;
      // The reconciler lists every query each interval: a good moment to bound running logs.
      if (i.state === 'running') capLog(f.log, this.opts.logMaxBytes ?? ENGINE_LOG_MAX_BYTES, this.keepLogs);
      out.push(i);
    }
    return out;
  }

  async remove(queryId: string): Promise<void> {
    for (const i of await this.list(queryId)) await this.forget(queryId, i.name);
    // Standbys a forget kept (a new checkpoint's), and folders left with only their files.
    await this.cancelPrestart(queryId);
  }

  async forget(queryId: string, name: string): Promise<void> {
    const f = this.files(queryId, name);
    const instance = this.describe(name, f);
    if (instance?.state === 'running') throw new Error(`instance ${name} still runs; drain it first`);
    const standby = this.standbys.get(`${queryId}/${name}`);
    const keep =
      standby !== undefined &&
      this.waiting(standby) &&
      keepsStandbyOnForget(standby.checkpointEpoch, instance?.checkpointEpoch);
    if (!keep) this.dropStandby(queryId, name);
    // The exit handler removes the CPU group only when this process spawned the instance (not
    // after a control-plane restart): an adopted instance's empty group goes here.
    const group = this.readCpuLimit(f)?.group;
    if (group) removeCpuGroup(group);
    // Keep the logs beside the instances folder so a crash can still be read after cleanup:
    // `<name>-<ms>.log` and, for older runs, `<name>-<ms>.log.1` ….
    const logs = logFiles(f.log, this.keepLogs);
    if (logs.length > 0) {
      const keep = path.join(this.opts.home, 'logs', queryId);
      fs.mkdirSync(keep, { recursive: true });
      const stamp = `${name}-${Date.now()}.log`;
      for (const file of logs) fs.renameSync(file, path.join(keep, stamp + file.slice(f.log.length)));
      this.pruneArchive(keep);
    }
    if (!keep) {
      fs.rmSync(f.dir, { recursive: true, force: true });
      return;
    }
    // Everything of the forgotten instance goes (its work folder included: the standby opens
    // nothing there before its release); the standby's own files stay for its start.
    for (const entry of fs.existsSync(f.dir) ? fs.readdirSync(f.dir) : [])
      if (!STANDBY_FILES.includes(entry))
        fs.rmSync(path.join(f.dir, entry), { recursive: true, force: true });
  }

  /**
   * Stops every standby of the query that was not released (an upgrade that rolls back before its
   * new version started): ours by their handles, those of an earlier control plane by their pid
   * files; a folder left with nothing but a standby's files goes (its log to the archive).
   */
  async cancelPrestart(queryId: string): Promise<void> {
    const ours = [...this.standbys.keys()]
      .filter((key) => key.startsWith(`${queryId}/`))
      .map((key) => key.slice(queryId.length + 1));
    // Ours tidy their folders up when they exit (watchExit), with their last log lines.
    for (const name of ours) this.dropStandby(queryId, name);
    const dir = path.join(this.opts.home, 'instances', queryId);
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (ours.includes(name)) continue;
      this.dropStandby(queryId, name);
      this.removeIfNoInstance(queryId, name);
    }
  }

  /**
   * A folder whose instance was forgotten and whose standby has gone holds only the standby's
   * log: archived (as forget archives an instance's) and the folder removed. Ours are left while
   * their process runs: its exit comes back here.
   */
  private removeIfNoInstance(queryId: string, name: string): void {
    const f = this.files(queryId, name);
    if (!fs.existsSync(f.dir) || fs.existsSync(f.meta)) return;
    const s = this.standbys.get(`${queryId}/${name}`);
    if (s && this.waiting(s)) return;
    const log = this.standbyFile(f, 'log');
    if (fs.existsSync(log)) {
      const keep = path.join(this.opts.home, 'logs', queryId);
      fs.mkdirSync(keep, { recursive: true });
      fs.renameSync(log, path.join(keep, `${name}-${Date.now()}.standby.log`));
      this.pruneArchive(keep);
    }
    fs.rmSync(f.dir, { recursive: true, force: true });
  }

  /** Bounds a query's archived logs: a query that scales in and out often would pile them up. */
  private pruneArchive(dir: string): void {
    const files = fs
      .readdirSync(dir)
      .map((n) => ({ file: path.join(dir, n), mtime: fs.statSync(path.join(dir, n)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of files.slice(ARCHIVED_LOGS_PER_QUERY)) fs.rmSync(old.file, { force: true });
  }

  logPath(queryId: string, name: string): string {
    return this.files(queryId, name).log;
  }
}
