// The local process driver's contract with real child processes. The engine CLI is replaced by a
// tiny Node program with the same lifecycle (runs until SIGTERM, then exits 0; or crashes on its
// own; pre-started with --standby, logs that it stands by and waits for SIGUSR2), because this
// test is about spawning, draining, adopting, crash detection, standbys and the logs that must
// survive restarts — the engine itself is exercised by its own suites (upgrade.int.ts for its
// standby).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LMDB_ENGINE_NODE_FLAGS } from '@sluice/query-plan';
import { LocalProcessRuntime } from '../src/runtime/local-process.runtime';
import type { InstanceLaunch } from '../src/runtime/runtime-driver';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-runtime-'));
const script = path.join(home, 'fake-engine.js');
fs.writeFileSync(
  script,
  `const crash = process.argv.includes('--crash-now');
   console.log(JSON.stringify({ args: process.argv.slice(2), execArgv: process.execArgv }));
   if (crash) process.exit(3);
   if (process.argv.includes('--fail-with')) {
     // Like the engine: JSON log lines, then its fatal error line on stderr, exit 1.
     console.log(JSON.stringify({ level: 30, msg: 'engine started' }));
     console.error('engine: ' + process.argv[process.argv.indexOf('--fail-with') + 1]);
     console.log(JSON.stringify({ level: 30, msg: 'stopping' }));
     process.exit(1);
   }
   if (process.argv.includes('--chatty')) setInterval(() => console.log(JSON.stringify({ level: 30, msg: 'x'.repeat(1000) })), 5);
   process.on('SIGTERM', () => { console.log('draining'); process.exit(0); });
   if (process.argv.includes('--standby')) {
     process.on('SIGUSR2', () => console.log(JSON.stringify({ level: 30, msg: 'engine released' })));
     console.log(JSON.stringify({ level: 30, msg: 'engine standing by' }));
   }
   setInterval(() => {}, 1000);`,
);

const runtime = (extra: string[] = [], logs: { logFiles?: number; logMaxBytes?: number } = {}) =>
  new LocalProcessRuntime({ home, engineCommand: [process.execPath, script, ...extra], cwd: home, ...logs });

const launch = (name: string, version = 1): InstanceLaunch => ({
  queryId: 'q1',
  queryName: 'demo',
  instanceName: name,
  ordinal: Number(name.split('-').pop()),
  version,
  specText: 'name: demo\n',
  checkpointUri: path.join(home, 'ckpt'),
  brokers: '127.0.0.1:1',
});

async function until(fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(async () => {
  const r = runtime();
  for (const q of ['q1', 'q2', 'q3']) {
    for (const i of await r.list(q)) await r.kill(q, i.name);
    await r.cancelPrestart(q);
  }
  fs.rmSync(home, { recursive: true, force: true });
});

describe('LocalProcessRuntime', () => {
  it('starts an instance with the engine CLI flags and is idempotent by name', async () => {
    const r = runtime();
    const a = await r.start(launch('demo-0'));
    const b = await r.start(launch('demo-0'));
    expect(b.ref).toBe(a.ref);
    await until(async () => fs.readFileSync(r.logPath('q1', 'demo-0'), 'utf8').includes('args'));
    const args = (
      JSON.parse(fs.readFileSync(r.logPath('q1', 'demo-0'), 'utf8').split('\n')[0]!) as { args: string[] }
    ).args;
    expect(args).toEqual([
      'run',
      '--spec',
      path.join(home, 'instances/q1/demo-0/spec.yaml'),
      '--checkpoint',
      path.join(home, 'ckpt'),
      '--instance-id',
      'demo-0',
      '--query-id',
      'q1',
      '--brokers',
      '127.0.0.1:1',
      // The instance's working folder (an lmdb state store), removed with the instance.
      '--work-dir',
      path.join(home, 'instances/q1/demo-0/work'),
      '--query-version',
      '1',
    ]);
    expect((await r.list('q1')).map((i) => [i.name, i.state])).toEqual([['demo-0', 'running']]);
  });

  it("gives an lmdb query's engine (and its standby) the lmdb node flags on node's command line, a memory query's none", async () => {
    const r = runtime();
    const withStore = (name: string, stateStore: string): InstanceLaunch => ({
      ...launch(name),
      queryId: 'q3',
      specText: `name: demo\noptions: { numShufflePartitions: 1, stateStore: ${stateStore} }\n`,
    });
    /** The first line the fake engine logged: its arguments and node's own flags. */
    const started = async (log: string): Promise<{ args: string[]; execArgv: string[] }> => {
      await until(async () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('execArgv'));
      return JSON.parse(fs.readFileSync(log, 'utf8').split('\n')[0]!) as {
        args: string[];
        execArgv: string[];
      };
    };
    expect(LMDB_ENGINE_NODE_FLAGS.length).toBeGreaterThan(0);
    await r.start(withStore('demo-0', 'lmdb'));
    const lmdb = await started(r.logPath('q3', 'demo-0'));
    expect(lmdb.execArgv).toEqual([...LMDB_ENGINE_NODE_FLAGS]);
    expect(lmdb.args[0]).toBe('run'); // node's flags, not the engine's arguments
    await r.start(withStore('demo-1', 'memory'));
    expect((await started(r.logPath('q3', 'demo-1'))).execArgv).toEqual([]);
    await r.start(withStore('demo-2', 'memory'));
    // A standby is spawned by the same command.
    await r.prestart({ ...withStore('demo-2', 'lmdb'), version: 2 });
    const standby = await started(path.join(home, 'instances', 'q3', 'demo-2', 'standby.log'));
    expect(standby.execArgv).toEqual([...LMDB_ENGINE_NODE_FLAGS]);
    expect(standby.args).toContain('--standby');
    await r.cancelPrestart('q3');
    for (const name of ['demo-0', 'demo-1', 'demo-2']) await r.kill('q3', name);
  });

  it('a fresh driver (control plane restarted) adopts the running process instead of starting another', async () => {
    const before = (await runtime().list('q1'))[0];
    const adopted = await runtime().start(launch('demo-0'));
    expect(adopted.ref).toBe(before?.ref);
  });

  it('drain sends SIGTERM; the exit is recorded as a clean, drained stop', async () => {
    const r = runtime();
    await r.drain('q1', 'demo-0');
    await until(async () => (await r.list('q1'))[0]?.state === 'exited');
    const [i] = await r.list('q1');
    expect(i).toMatchObject({ state: 'exited', exitCode: 0, drained: true });
    await r.forget('q1', 'demo-0');
    expect(await r.list('q1')).toEqual([]);
    expect(fs.readdirSync(path.join(home, 'logs', 'q1')).some((f) => f.startsWith('demo-0-'))).toBe(true);
  });

  it('records a crash with its exit code and no drain', async () => {
    const r = runtime(['--crash-now']);
    await r.start(launch('demo-1'));
    await until(async () => (await r.list('q1')).find((i) => i.name === 'demo-1')?.state === 'exited');
    expect((await r.list('q1')).find((i) => i.name === 'demo-1')).toMatchObject({
      exitCode: 3,
      drained: false,
    });
  });

  it('tells exit listeners of a SIGKILL at once, after recording the exit', async () => {
    // The command resolved at start, as the bundle's is.
    const r = new LocalProcessRuntime({
      home,
      engineCommand: async () => [process.execPath, script],
      cwd: home,
    });
    const seen: Array<{ queryId: string; name: string; state: string | undefined }> = [];
    const exited = new Promise<void>((resolve) =>
      r.onExit((queryId, name) => {
        void r.list(queryId).then((all) => {
          seen.push({ queryId, name, state: all.find((i) => i.name === name)?.state });
          resolve();
        });
      }),
    );
    await r.start(launch('demo-5'));
    await r.kill('q1', 'demo-5');
    await exited;
    expect(seen).toEqual([{ queryId: 'q1', name: 'demo-5', state: 'exited' }]);
    expect((await r.list('q1')).find((i) => i.name === 'demo-5')).toMatchObject({
      exitCode: 137,
      drained: false,
    });
    await r.forget('q1', 'demo-5');
  });

  it('refuses to forget a running instance', async () => {
    const r = runtime();
    await r.start(launch('demo-2'));
    await expect(r.forget('q1', 'demo-2')).rejects.toThrow('still runs');
    await r.kill('q1', 'demo-2');
  });

  it('keeps the logs of earlier runs across restarts, the last N of them', async () => {
    const r = runtime(['--crash-now'], { logFiles: 3 });
    const exited = async () => (await r.list('q1')).find((i) => i.name === 'demo-3')?.state === 'exited';
    for (const version of [1, 2, 3, 4]) {
      await r.start(launch('demo-3', version));
      await until(exited);
    }
    const log = r.logPath('q1', 'demo-3');
    const versionIn = (file: string) =>
      (JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[0]!) as { args: string[] }).args.at(-1);
    expect([versionIn(log), versionIn(`${log}.1`), versionIn(`${log}.2`)]).toEqual(['4', '3', '2']);
    expect(fs.existsSync(`${log}.3`)).toBe(false);

    // Forgetting the instance archives the whole set beside the instances folder.
    await r.forget('q1', 'demo-3');
    const archived = fs.readdirSync(path.join(home, 'logs', 'q1')).filter((f) => f.startsWith('demo-3-'));
    expect(archived.map((f) => f.replace(/^demo-3-\d+/, '')).sort()).toEqual(['.log', '.log.1', '.log.2']);
  });

  it("reports why a crashed instance exited: its log's error line, not a clean stop's", async () => {
    const r = runtime(['--fail-with', 'index row requires 10024 bytes, maximum size is 8191']);
    await r.start(launch('demo-4'));
    await until(async () => (await r.list('q1')).find((i) => i.name === 'demo-4')?.state === 'exited');
    expect((await r.list('q1')).find((i) => i.name === 'demo-4')).toMatchObject({
      exitCode: 1,
      drained: false,
      lastError: 'engine: index row requires 10024 bytes, maximum size is 8191',
    });

    const clean = runtime();
    await clean.start(launch('demo-5'));
    await until(async () => fs.readFileSync(clean.logPath('q1', 'demo-5'), 'utf8').includes('args'));
    await clean.drain('q1', 'demo-5');
    await until(async () => (await clean.list('q1')).find((i) => i.name === 'demo-5')?.state === 'exited');
    expect((await clean.list('q1')).find((i) => i.name === 'demo-5')).toMatchObject({
      exitCode: 0,
      drained: true,
      lastError: null,
    });
  });

  it('bounds the log of a running engine: copied aside and truncated, while the engine keeps writing', async () => {
    const r = runtime(['--chatty'], { logFiles: 3, logMaxBytes: 50_000 });
    await r.start(launch('demo-6'));
    const log = r.logPath('q1', 'demo-6');
    // Measured right after each check (what every reconcile pass does): then the live log is at
    // most the bound plus what the engine wrote in between. Rotated files hold what accumulated
    // since the previous check, which on a loaded machine can be a few hundred ms of output, so
    // they are held to a looser bound (1 s of the ~200 KB/s output): bounded, not exact.
    let largestAfterCheck = 0;
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      await r.list('q1');
      largestAfterCheck = Math.max(largestAfterCheck, fs.statSync(log).size);
      await new Promise((res) => setTimeout(res, 100));
    }
    // Many rotations, never all of it kept.
    expect(fs.existsSync(`${log}.2`)).toBe(true);
    expect(fs.existsSync(`${log}.3`)).toBe(false);
    expect(largestAfterCheck).toBeLessThan(50_000 + 50_000);
    for (const f of [`${log}.1`, `${log}.2`]) expect(fs.statSync(f).size).toBeLessThan(50_000 + 200_000);
    const before = fs.statSync(log).size;
    await new Promise((res) => setTimeout(res, 300));
    expect(fs.statSync(log).size).toBeGreaterThan(before); // the engine writes on into the emptied file
    await r.kill('q1', 'demo-6');
  });
});

describe('LocalProcessRuntime: pre-started standbys', () => {
  const q = 'q2';
  const old = (name: string): InstanceLaunch => ({ ...launch(name, 1), queryId: q });
  /** The successor on a new checkpoint lineage, continuing where the old one ended. */
  const successor = (name: string, epoch: number): InstanceLaunch => ({
    ...launch(name, 2),
    queryId: q,
    checkpointUri: path.join(home, `ckpt.c${epoch}`),
    checkpointEpoch: epoch,
    continueFrom: epoch > 0 ? { epoch: 0, checkpointUri: path.join(home, 'ckpt') } : null,
  });
  const folder = (name: string) => path.join(home, 'instances', q, name);
  const standbyPid = (name: string) =>
    Number(fs.readFileSync(path.join(folder(name), 'standby.pid'), 'utf8'));
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  /** Starts the old instance and pre-starts `next` beside it, waiting until it stands by. */
  async function besideOld(r: LocalProcessRuntime, name: string, next: InstanceLaunch): Promise<number> {
    await r.start(old(name));
    await r.prestart(next);
    await until(async () => (await r.standbyState(q, name)) === 'ready');
    return standbyPid(name);
  }
  async function drainAndForget(r: LocalProcessRuntime, name: string): Promise<void> {
    await r.drain(q, name);
    await until(async () => (await r.list(q)).find((i) => i.name === name)?.state === 'exited');
    await r.forget(q, name);
  }

  it("a new checkpoint's standby waits through the forget of its predecessor and is released by the start of its launch", async () => {
    const r = runtime();
    const next = successor('demo-10', 1);
    const pid = await besideOld(r, 'demo-10', next);
    await drainAndForget(r, 'demo-10');
    // Only the standby's files are left; the folder lists no instance.
    expect(fs.readdirSync(folder('demo-10')).sort()).toEqual([
      'standby.log',
      'standby.pid',
      'standby.spec.yaml',
    ]);
    expect((await r.list(q)).find((i) => i.name === 'demo-10')).toBeUndefined();
    expect(await r.standbyState(q, 'demo-10')).toBe('ready');
    const started = await r.start(next);
    expect(started).toMatchObject({ ref: `pid:${pid}`, version: 2, checkpointEpoch: 1, state: 'running' });
    await until(async () => fs.readFileSync(r.logPath(q, 'demo-10'), 'utf8').includes('engine released'));
    expect(await r.standbyState(q, 'demo-10')).toBe('gone');
    await r.kill(q, 'demo-10');
  });

  it("a standby of the same lineage goes with its predecessor's forget (stopped or scaled in, not upgraded)", async () => {
    const r = runtime();
    const pid = await besideOld(r, 'demo-11', successor('demo-11', 0));
    await drainAndForget(r, 'demo-11');
    await until(async () => !alive(pid));
    expect(fs.existsSync(folder('demo-11'))).toBe(false);
  });

  it('cancelPrestart stops standbys never released and leaves nothing of them, nor of a running instance less', async () => {
    const r = runtime();
    const forgotten = await besideOld(r, 'demo-12', successor('demo-12', 1));
    await drainAndForget(r, 'demo-12');
    const beside = await besideOld(r, 'demo-13', successor('demo-13', 1));
    await r.cancelPrestart(q);
    await until(async () => !alive(forgotten) && !alive(beside));
    // The forgotten instance's folder goes, its standby's log to the archive.
    await until(async () => !fs.existsSync(folder('demo-12')));
    expect(
      fs.readdirSync(path.join(home, 'logs', q)).some((f) => /^demo-12-\d+\.standby\.log$/.test(f)),
    ).toBe(true);
    // The instance that still runs keeps its folder and process; only the standby's files go.
    const running = (await r.list(q)).find((i) => i.name === 'demo-13');
    expect(running).toMatchObject({ state: 'running', version: 1 });
    expect(
      fs.readdirSync(folder('demo-13')).filter((f) => f.startsWith('standby.') && f !== 'standby.log'),
    ).toEqual([]);
    expect(await r.standbyState(q, 'demo-13')).toBe('gone');
    await r.kill(q, 'demo-13');
  });
});
