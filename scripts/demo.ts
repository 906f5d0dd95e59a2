// Starts the local stack (if it is not up), applies migrations, runs the control plane in the
// foreground and prints where everything is. Ctrl-C stops what the demo started, cleanly.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseBrokers, startGenerator, type RunningGenerator } from '@sluice/kafka';
import { applyMigrations } from '../prisma/migrate';
import { loadStackConfig, stackEnv } from './stack/config';
import { components, stackDown, stackUp } from './stack/stack';

const ROOT = path.resolve(__dirname, '..');
const log = (m: string) => process.stdout.write(`[demo] ${m}\n`);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Engines are detached processes (they outlive control-plane restarts). Before the stack goes
 * down, every engine this control plane started (its spec lives under `<home>/instances/`, found
 * by command line) gets SIGTERM — a drain while Kafka is still up — then SIGKILL. That includes
 * engines of other queries registered in the same database.
 */
async function stopLeftoverEngines(home: string): Promise<void> {
  const found = spawnSync('pgrep', ['-f', `apps/engine/src/cli.ts run --spec ${path.join(home, 'instances')}/`], { encoding: 'utf8' });
  const pids = found.stdout.split('\n').map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && alive(pid));
  if (pids.length === 0) return;
  log(`draining ${pids.length} engine process(es) directly`);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 30 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 500));
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const config = loadStackConfig();
  const wasUp = (await Promise.all(components(config).map((c) => c.state()))).every((s) => s === 'up');
  await stackUp((m) => log(m), config);
  const connections = stackEnv(config);
  // A demo admin token, printed below, so the user can call the API right away.
  const token = process.env.SLUICE_BOOTSTRAP_TOKEN ?? `slc_demo_${randomBytes(16).toString('hex')}`;
  const env = { ...process.env, ...connections, SLUICE_BOOTSTRAP_TOKEN: token, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
  await applyMigrations(connections.DATABASE_URL);

  const logFile = path.join(config.home, 'control-plane.log');
  const cp = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal Ctrl-C reaches only the demo, which stops things in order
    // (query drained while the control plane and Kafka are still up).
    detached: true,
  });
  const out = fs.createWriteStream(logFile, { flags: 'a' });
  cp.stdout.pipe(out);
  cp.stderr.pipe(out);
  cp.stderr.on('data', (d: Buffer) => process.stderr.write(d));

  const api = `http://127.0.0.1:${config.apiPort}`;
  let stopping = false;
  const demo: { generator?: RunningGenerator } = {};
  let demoQueryId: string | undefined;
  const call = (method: string, url: string, body?: string) =>
    fetch(`${api}${url}`, { method, headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/yaml' } : {}) }, body });
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await demo.generator?.stop().catch(() => undefined);
    if (demoQueryId) {
      log('stopping the demo query (drain)');
      await call('POST', `/api/v1/queries/${demoQueryId}/stop`).catch(() => undefined);
      for (let i = 0; i < 60; i++) {
        const q = (await call('GET', `/api/v1/queries/${demoQueryId}`).then((r) => r.json(), () => null)) as { instances?: unknown[] } | null;
        if (!q || (q.instances ?? []).length === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    log('stopping the control plane');
    cp.kill('SIGTERM');
    await new Promise((r) => (cp.exitCode !== null ? r(null) : cp.once('exit', r)));
    await stopLeftoverEngines(config.home);
    if (!wasUp) {
      log('stopping the stack the demo started');
      await stackDown((m) => log(m), config);
    } else {
      log('the stack was already running before the demo; leaving it up (npm run stack:down stops it)');
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  cp.on('exit', (code) => {
    if (!stopping) {
      log(`control plane exited with ${code}; see ${logFile}`);
      void stop(1);
    }
  });

  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${api}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const ready = await fetch(`${api}/readyz`).then((r) => r.status === 200, () => false);
  if (!ready) {
    log(`control plane did not become ready; see ${logFile}`);
    await stop(1);
    return;
  }
  demo.generator = await startGenerator({ brokers: parseBrokers(connections.KAFKA_BROKERS), topic: 'demo.clicks', partitions: 4, rate: 200 });
  const specText = fs.readFileSync(path.join(ROOT, 'scripts/demo-assets/clicks-per-user.yaml'), 'utf8');
  const list = (await (await call('GET', '/api/v1/queries')).json()) as { items?: Array<{ id: string; name: string }> } | Array<{ id: string; name: string }>;
  const items = Array.isArray(list) ? list : (list.items ?? []);
  demoQueryId = items.find((q) => q.name === 'demo-clicks-per-user')?.id;
  if (!demoQueryId) {
    const created = await call('POST', '/api/v1/queries', specText);
    if (created.status !== 201) throw new Error(`registering the demo query failed: ${created.status} ${await created.text()}`);
    demoQueryId = ((await created.json()) as { id: string }).id;
  } else {
    await call('POST', `/api/v1/queries/${demoQueryId}/start`);
  }
  log(`Sluice is up (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  log(`  demo query  ${api}/api/v1/queries/${demoQueryId}  (generator: 200 clicks/s on demo.clicks)`);
  log(`              lag: ${api}/api/v1/queries/${demoQueryId}/lag   results: table demo_clicks_per_user`);
  log(`  API token   ${token}  (Authorization: Bearer …)`);
  log(`  API         ${api}/api/v1`);
  log(`  OpenAPI     ${api}/api/docs`);
  log(`  readiness   ${api}/readyz`);
  log(`  metrics     ${api}/metrics`);
  log(`  logs        ${logFile}`);
  log('Press Ctrl-C to stop.');
}

main().catch((e: Error) => {
  process.stderr.write(`[demo] error: ${e.message}\n`);
  process.exit(1);
});
