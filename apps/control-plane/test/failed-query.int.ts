// A query whose engine crash-loops ends FAILED saying why (the last error line of the engine's
// log), keeps the logs of its earlier runs, and can then be stopped (STOPPED, no restarts) or
// deleted (gone, with its runtime objects) — both used to fail with "CrashLoop: 0 crashes".
// Real PostgreSQL, Redis and Kafka; the engine is the stand-in, which exits 1 at once for a spec
// named "crashloop", writing "simulated startup failure" to stderr.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventsSpec,
  eventually,
  forgetTestQueries,
  killTestInstances,
  startTestApp,
  STAND_IN_ENGINE,
  type TestApp,
} from './support/test-app';

type Op = { id: string; state: string; error: string | null };
type Detail = {
  phase: string;
  desired: { state: string };
  instances: Array<{ name: string; status: string; restarts: number }>;
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
};

let t: TestApp;
const suffix = randomUUID().slice(0, 8);

const opDone = (id: string) =>
  eventually(
    () => t.call<Op>('GET', `/api/v1/operations/${id}`).then((r) => r.body),
    (op) => op.state === 'SUCCEEDED' || op.state === 'FAILED',
    90_000,
    `operation ${id}`,
  );
const detail = (id: string) => t.call<Detail>('GET', `/api/v1/queries/${id}`);

/** Creates a crash-looping query and waits until it reads FAILED. */
async function failedQuery(name: string): Promise<string> {
  const r = await t.call<{ id: string; operation: Op }>(
    'POST',
    '/api/v1/queries',
    eventsSpec(`crashloop-${name}-${suffix}`, `it-src-${suffix}`, `it-out-${suffix}`),
  );
  expect(r.status).toBe(201);
  // Polled rather than read from the deploy operation: on a loaded machine the stand-in can
  // outlive the settle time before it exits, and the deploy then succeeds before the crashes.
  await eventually(
    () => detail(r.body.id).then((d) => d.body.phase),
    (phase) => phase === 'FAILED',
    90_000,
    `${name} FAILED`,
  );
  await opDone(r.body.operation.id);
  return r.body.id;
}

beforeAll(async () => {
  t = await startTestApp({ SLUICE_ENGINE_COMMAND: JSON.stringify([process.execPath, STAND_IN_ENGINE]) });
});

afterAll(async () => {
  await t?.close();
  if (t) killTestInstances(t.home);
  await forgetTestQueries(suffix);
});

describe('a FAILED query', () => {
  it("says why in its condition and keeps every run's log", async () => {
    const id = await failedQuery('why');
    const d = (await detail(id)).body;
    expect(d.phase).toBe('FAILED');
    const degraded = d.conditions.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'CrashLoop' });
    expect(degraded?.message).toMatch(
      /^5 crashes within 10 minutes; last: simulated startup failure; restarts stopped/,
    );

    // Every restart rotated the log instead of deleting it; FAILED forgot the instance and
    // archived the whole set.
    // (The archive is written by the pass that forgets the instance, which may come after the
    // one that wrote FAILED: wait for it rather than race it.)
    const archive = path.join(t.home, 'logs', id);
    const logs = await eventually(
      async () => (fs.existsSync(archive) ? fs.readdirSync(archive) : []),
      (files) => files.length >= 5,
      20_000,
      'five archived logs',
    );
    expect(logs.length).toBeGreaterThanOrEqual(5);
    const withReason = logs.filter((f) =>
      fs.readFileSync(path.join(archive, f), 'utf8').includes('simulated startup failure'),
    );
    expect(withReason.length).toBeGreaterThanOrEqual(5);

    // Later passes keep the message as written (it used to be recounted as "0 crashes").
    await new Promise((r) => setTimeout(r, 2500));
    expect((await detail(id)).body.conditions.find((c) => c.type === 'Degraded')?.message).toBe(
      degraded?.message,
    );
  });

  it('can be stopped: STOPPED, and nothing restarts', async () => {
    const id = await failedQuery('stop');
    const stop = await t.call<Op>('POST', `/api/v1/queries/${id}/stop`);
    expect(stop.status).toBeLessThan(300);
    expect(await opDone(stop.body.id)).toMatchObject({ state: 'SUCCEEDED', error: null });
    const d = (await detail(id)).body;
    expect(d).toMatchObject({ phase: 'STOPPED', desired: { state: 'STOPPED' }, instances: [] });
    expect(d.conditions.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'False' });
    // No engine process comes back during a few reconcile intervals.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await detail(id)).body).toMatchObject({ phase: 'STOPPED', instances: [] });
    const instances = path.join(t.home, 'instances', id);
    expect(fs.existsSync(instances) ? fs.readdirSync(instances) : []).toEqual([]);
  });

  it('can be deleted: the query and its runtime objects are gone', async () => {
    const id = await failedQuery('delete');
    const del = await t.call<Op>('DELETE', `/api/v1/queries/${id}`);
    expect(del.status).toBeLessThan(300);
    expect(await opDone(del.body.id)).toMatchObject({ state: 'SUCCEEDED', error: null });
    expect((await detail(id)).status).toBe(404);
    const instances = path.join(t.home, 'instances', id);
    expect(fs.existsSync(instances) ? fs.readdirSync(instances) : []).toEqual([]);
  });

  it('can be deployed again: a fresh start, not FAILED again at once', async () => {
    const id = await failedQuery('redeploy');
    const dep = await t.call<Op>('POST', `/api/v1/queries/${id}/deploy`, { version: 1 });
    expect(dep.status).toBe(202);
    // The earlier run's crash history no longer counts: engines are started again.
    const d = await eventually(
      () => detail(id).then((r) => r.body),
      (b) => b.instances.length > 0,
      30_000,
      'instances started again',
    );
    expect(d.instances.length).toBeGreaterThan(0);
    await opDone(dep.body.id);
    const stop = await t.call<Op>('POST', `/api/v1/queries/${id}/stop`);
    await opDone(stop.body.id);
  });
});
