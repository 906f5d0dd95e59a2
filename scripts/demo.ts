// Starts the local stack (the components that are not up), applies migrations, runs the control
// plane and prints where everything is. Ctrl-C stops what the demo started, cleanly; so does the
// control plane ending on its own (crash, kill -9), after which the demo exits non-zero.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseBrokers, startGenerator, type RunningGenerator } from '@sluice/kafka';
import { ENGINE_PROGRAM_PATTERN } from '../apps/control-plane/src/runtime/engine-bundle';
import { applyMigrations } from '../prisma/migrate';
import { loadStackConfig, stackEnv, type StackConfig } from './stack/config';
import { components, stackDown, stackUp } from './stack/stack';
import { describeExit, supervise, type Supervised } from './supervise';
import { pidAlive as alive } from './stack/proc';

const ROOT = path.resolve(__dirname, '..');
const log = (m: string) => process.stdout.write(`[demo] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Engines are detached processes (they outlive control-plane restarts). Before the stack goes
 * down, every engine this control plane started (its spec lives under `<home>/instances/`, found
 * by command line) gets SIGTERM — a drain while Kafka is still up — then SIGKILL. That includes
 * engines of other queries registered in the same database.
 */
async function stopLeftoverEngines(home: string): Promise<void> {
  const found = spawnSync(
    'pgrep',
    ['-f', `${ENGINE_PROGRAM_PATTERN} run --spec ${path.join(home, 'instances')}/`],
    { encoding: 'utf8' },
  );
  const pids = found.stdout
    .split('\n')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0 && alive(pid));
  if (pids.length === 0) return;
  log(`draining ${pids.length} engine process(es) directly`);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 30 && pids.some(alive); i++) await sleep(500);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}

/** What this run started, so that stopping undoes exactly that and nothing else. */
interface DemoRun {
  config: StackConfig;
  /** Stack components that were not up before the demo (it starts them, so it stops them). */
  startedComponents: string[];
  /** Settles when the stack start is over, successful or not; stopping waits for it. */
  stackStart?: Promise<unknown>;
  stackStartDone?: boolean;
  controlPlane?: Supervised;
  api: string;
  call: (method: string, url: string, body?: string) => Promise<Response>;
  generator?: RunningGenerator;
  queryId?: string;
}

/** Stops, in order, what `run` holds: input first, then the query, the control plane, the stack. */
async function stopDemo(run: DemoRun): Promise<void> {
  await run.generator?.stop().catch(() => undefined);
  const cp = run.controlPlane;
  if (run.queryId && cp && !cp.exit) {
    log('stopping the demo query (drain)');
    await run.call('POST', `/api/v1/queries/${run.queryId}/stop`).catch(() => undefined);
    for (let i = 0; i < 60 && !cp.exit; i++) {
      const q = (await run.call('GET', `/api/v1/queries/${run.queryId}`).then(
        (r) => r.json(),
        () => null,
      )) as { instances?: unknown[] } | null;
      if (!q || (q.instances ?? []).length === 0) break;
      await sleep(500);
    }
  }
  if (cp && !cp.exit) {
    log('stopping the control plane');
    // Its own shutdown guard exits after 30 s; past that it is hung and gets SIGKILL.
    const end = await cp.stop(35_000);
    if (end.signal === 'SIGKILL') log('the control plane did not stop within 35 s and was killed');
  }
  await stopLeftoverEngines(run.config.home);
  // A component half-way through its start (Kafka waiting for its coordinators) would be missed
  // by stackDown, which stops what is up; let the start finish, then stop it.
  if (run.stackStart && !run.stackStartDone)
    log('waiting for the stack start under way to finish, to stop it');
  await run.stackStart?.catch(() => undefined);
  if (run.startedComponents.length > 0) {
    log(`stopping what the demo started: ${run.startedComponents.join(', ')}`);
    await stackDown((m) => log(m), run.config, run.startedComponents);
  }
  const left = components(run.config)
    .filter((c) => !c.optional && !run.startedComponents.includes(c.name))
    .map((c) => c.name);
  if (left.length > 0)
    log(`${left.join(', ')} ran before the demo and stay up (npm run stack:down stops them)`);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const config = loadStackConfig();
  const states = await Promise.all(
    components(config)
      .filter((c) => !c.optional) // the demo runs local engines; Kubernetes is not part of it
      .map(async (c) => ({ name: c.name, state: await c.state() })),
  );
  const api = `http://127.0.0.1:${config.apiPort}`;
  // A demo admin token, printed below, so the user can call the API right away.
  const token = process.env.SLUICE_BOOTSTRAP_TOKEN ?? `slc_demo_${randomBytes(16).toString('hex')}`;
  const run: DemoRun = {
    config,
    startedComponents: states.filter((s) => s.state !== 'up').map((s) => s.name),
    api,
    call: (method, url, body) =>
      fetch(`${api}${url}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body ? { 'Content-Type': 'application/yaml' } : {}),
        },
        body,
      }),
  };

  // One shutdown, whoever asks first (Ctrl-C, the control plane ending, a failed step).
  let stopping: Promise<never> | undefined;
  const shutdown = (code: number): Promise<never> =>
    (stopping ??= stopDemo(run).then(
      () => process.exit(code),
      (e: Error) => {
        process.stderr.write(`[demo] error while stopping: ${e.message}\n`);
        process.exit(1);
      },
    ));
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    run.stackStart = stackUp((m) => log(m), config).finally(() => (run.stackStartDone = true));
    await run.stackStart;
    if (stopping) return;
    const connections = stackEnv(config);
    const env = {
      ...process.env,
      ...connections,
      SLUICE_BOOTSTRAP_TOKEN: token,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    };
    await applyMigrations(connections.DATABASE_URL);
    if (stopping) return;

    const logFile = path.join(config.home, 'control-plane.log');
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a terminal Ctrl-C reaches only the demo, which stops things in order
      // (query drained while the control plane and Kafka are still up).
      detached: true,
    });
    const cp = supervise(child, { group: true });
    run.controlPlane = cp;
    const out = fs.createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    void cp.exited.then((end) => {
      if (cp.stopRequested) return;
      log(`the control plane ${describeExit(end)}; stopping what the demo started (log: ${logFile})`);
      void shutdown(1);
    });

    const deadline = Date.now() + 120_000;
    let ready = false;
    while (!ready && !cp.exit && Date.now() < deadline) {
      ready = await fetch(`${api}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await sleep(500);
    }
    if (stopping || cp.exit) return; // the exit handler above reports and stops
    if (!ready) {
      log(`control plane did not become ready within 120 s; see ${logFile}`);
      await shutdown(1);
    }

    run.generator = await startGenerator({
      brokers: parseBrokers(connections.KAFKA_BROKERS),
      topic: 'demo.clicks',
      partitions: 4,
      rate: 200,
    });
    if (stopping) return;
    const specText = fs.readFileSync(path.join(ROOT, 'scripts/demo-assets/clicks-per-user.yaml'), 'utf8');
    const list = (await (await run.call('GET', '/api/v1/queries')).json()) as
      { items?: Array<{ id: string; name: string }> } | Array<{ id: string; name: string }>;
    const items = Array.isArray(list) ? list : (list.items ?? []);
    run.queryId = items.find((q) => q.name === 'demo-clicks-per-user')?.id;
    if (!run.queryId) {
      const created = await run.call('POST', '/api/v1/queries', specText);
      if (created.status !== 201)
        throw new Error(`registering the demo query failed: ${created.status} ${await created.text()}`);
      run.queryId = ((await created.json()) as { id: string }).id;
    } else {
      await run.call('POST', `/api/v1/queries/${run.queryId}/start`);
    }
    if (stopping) return;
    log(`Sluice is up (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    log(`  demo query  ${api}/api/v1/queries/${run.queryId}  (generator: 200 clicks/s on demo.clicks)`);
    log(`              lag: ${api}/api/v1/queries/${run.queryId}/lag`);
    log(`              results: table demo_clicks_per_user in ${connections.SLUICE_SINK_DATABASE_URL}`);
    log(`  API token   ${token}  (Authorization: Bearer …)`);
    log(`  API         ${api}/api/v1`);
    log(`  OpenAPI     ${api}/api/docs`);
    log(`  readiness   ${api}/readyz`);
    log(`  metrics     ${api}/metrics`);
    log(`  logs        ${logFile}  (control plane pid ${cp.pid})`);
    log('Press Ctrl-C to stop.');
  } catch (e) {
    // A step that failed because the control plane died (the API went away) is reported by the
    // exit handler, with how it died; the 'exit' event can come a moment after the failed call.
    const cp = run.controlPlane;
    const cpEnded = cp
      ? await Promise.race([cp.exited.then(() => true), sleep(2000).then(() => false)])
      : false;
    if (stopping || (cpEnded && !cp?.stopRequested)) return;
    process.stderr.write(`[demo] error: ${(e as Error).message}\n`);
    await shutdown(1);
  }
}

void main();
