// The control plane as a real process: SIGKILL it in the middle of an operation and restart it
// (the operation must finish, with no orphan or duplicate instance); stop Redis while an
// operation is requested (readyz says so; the operation runs once Redis is back).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@sluice/testing';
import {
  apiCall,
  engineProcessCount,
  killEngines,
  liveEngines,
  startControlPlane,
  STAND_IN_ENGINE_ENV,
  type ControlPlaneProcess,
} from './support/control-plane-process';
import { createToken, eventually, forgetTestQueries, ROOT } from './support/test-app';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-resilience-'));
let port: number;
let cp: ControlPlaneProcess | undefined;
let token: string;
const suffix = randomUUID().slice(0, 8);

/** (Re)starts the control plane on the same port and home, as a restarted pod would be. */
async function start(): Promise<void> {
  cp = await startControlPlane({
    port,
    home,
    readyTimeoutMs: 60_000,
    env: {
      ...process.env,
      ...STAND_IN_ENGINE_ENV,
      SLUICE_RECONCILE_INTERVAL_MS: '1000',
      SLUICE_INSTANCE_SETTLE_MS: '1500',
      LOG_LEVEL: 'warn',
    },
  });
}

const call = <T>(method: string, url: string, body?: unknown) =>
  apiCall<T>(`http://127.0.0.1:${port}`, token, method, url, body);

function stack(cmd: 'up' | 'down', component: string): void {
  const r = spawnSync('npx', ['tsx', 'scripts/stack/cli.ts', cmd, component], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`stack ${cmd} ${component}: ${r.stderr}`);
}

const liveInstances = (queryId: string): string[] => Object.keys(liveEngines(home, queryId));

const spec = (name: string) =>
  `name: ${name}\nsources:\n  events:\n    kafka: { topic: it-res-${suffix}, startingOffsets: earliest }\n    format: json\n    schema: { user_id: string, amount: long }\nsql: |\n  SELECT user_id, amount FROM events WHERE amount > 10\nsink:\n  kafka: { topic: it-res-out-${suffix} }\noutputMode: append\ntrigger: { processingTime: 1 second }\n`;

beforeAll(async () => {
  port = await freePort();
  token = createToken('admin', `resilience-${suffix}`);
  await start();
});

afterAll(async () => {
  stack('up', 'redis');
  await cp?.kill();
  killEngines(home);
  await forgetTestQueries(suffix);
});

describe('control plane resilience', () => {
  it('finishes an operation after being SIGKILLed mid-way, without orphan or duplicate instances', async () => {
    const created = await call<{ id: string; operation: { id: string } }>(
      'POST',
      '/api/v1/queries',
      spec(`res-${suffix}`),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    await eventually(
      () =>
        call<{ state: string }>('GET', `/api/v1/operations/${created.body.operation.id}`).then(
          (r) => r.body.state,
        ),
      (s) => s === 'SUCCEEDED',
      60_000,
      'deploy',
    );

    const scale = await call<{ id: string }>('POST', `/api/v1/queries/${id}/scale`, { instances: 3 });
    expect(scale.status).toBe(202);
    // Kill as soon as the operation is running (instances are starting but not yet settled).
    await eventually(
      () => call<{ state: string }>('GET', `/api/v1/operations/${scale.body.id}`).then((r) => r.body.state),
      (s) => s === 'RUNNING',
      30_000,
      'scale running',
    );
    await cp?.kill();

    await start();
    const op = await eventually(
      () =>
        call<{ state: string; error: string | null }>('GET', `/api/v1/operations/${scale.body.id}`).then(
          (r) => r.body,
        ),
      (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
      90_000,
      'scale after restart',
    );
    expect(op).toMatchObject({ state: 'SUCCEEDED' });
    expect(liveInstances(id).sort()).toEqual([`res-${suffix}-0`, `res-${suffix}-1`, `res-${suffix}-2`]);
    expect(engineProcessCount(home, id, 'stand-in')).toBe(3);
  });

  it('with Redis down, /readyz names Redis and a requested operation runs once Redis returns', async () => {
    const list = await call<Array<{ id: string; name: string }>>('GET', '/api/v1/queries');
    const id = list.body.find((q) => q.name === `res-${suffix}`)!.id;
    stack('down', 'redis');
    try {
      const ready = await eventually(
        () =>
          fetch(`http://127.0.0.1:${port}/readyz`).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { error: Record<string, unknown> },
          })),
        (r) => r.status === 503,
        30_000,
        'readyz 503',
      );
      expect(Object.keys(ready.body.error)).toEqual(['redis']);
      const scale = await call<{ id: string; state: string }>('POST', `/api/v1/queries/${id}/scale`, {
        instances: 1,
      });
      expect(scale.status).toBe(202);
      expect(scale.body.state).toBe('QUEUED');
      await new Promise((r) => setTimeout(r, 2000));
      expect((await call<{ state: string }>('GET', `/api/v1/operations/${scale.body.id}`)).body.state).toBe(
        'QUEUED',
      );
      stack('up', 'redis');
      const op = await eventually(
        () => call<{ state: string }>('GET', `/api/v1/operations/${scale.body.id}`).then((r) => r.body.state),
        (s) => s === 'SUCCEEDED' || s === 'FAILED',
        90_000,
        'scale after Redis',
      );
      expect(op).toBe('SUCCEEDED');
      await eventually(
        async () => liveInstances(id),
        (l) => l.length === 1,
        30_000,
        'scale-in',
      );
    } finally {
      stack('up', 'redis');
    }
  });
});
