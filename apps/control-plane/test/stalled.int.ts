// Stalled, fed with real lag: a real engine is frozen (SIGSTOP: its process is alive, so nothing
// crashed) while records keep arriving. The query must turn DEGRADED with reason Stalled, naming
// the records behind; once the engine resumes (SIGCONT) and catches up, it is RUNNING again.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventsTopic, produceEvents } from './support/events-topic';
import { eventsSpec, eventually, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
const suffix = randomUUID().slice(0, 8);
const topic = `it-stall-${suffix}`;
let frozenPid: number | undefined;

interface QueryView {
  phase: string;
  lastProgress: unknown;
  conditions: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

beforeAll(async () => {
  await createEventsTopic(topic, 1, 100);
  t = await startTestApp({ SLUICE_STALLED_MIN_MS: '3000' });
});

afterAll(async () => {
  if (frozenPid) {
    try {
      process.kill(frozenPid, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  await t?.close();
  await forgetTestQueries(suffix);
});

describe('a stalled query', () => {
  it('turns DEGRADED/Stalled while its engine is frozen with records behind, and RUNNING once it resumes', async () => {
    const spec = eventsSpec(`stall-${suffix}`, topic, `it-stall-out-${suffix}`, '500 milliseconds');
    const created = await t.call<{ id: string }>('POST', '/api/v1/queries', spec);
    expect(created.status).toBe(201);
    const id = created.body.id;
    const view = () => t.call<QueryView>('GET', `/api/v1/queries/${id}`).then((r) => r.body);
    await eventually(
      view,
      (q) => q.phase === 'RUNNING' && q.lastProgress !== null,
      90_000,
      'running with progress',
    );
    await eventually(
      () => t.call<{ totalRecordsBehind: number }>('GET', `/api/v1/queries/${id}/lag`).then((r) => r.body),
      (l) => l.totalRecordsBehind === 0,
      60_000,
      'caught up',
    );

    frozenPid = Number(
      fs.readFileSync(path.join(t.home, 'instances', id, `stall-${suffix}-0`, 'pid'), 'utf8'),
    );
    process.kill(frozenPid, 'SIGSTOP');
    await produceEvents(topic, 200);
    const stalled = await eventually(view, (q) => q.phase === 'DEGRADED', 60_000, 'DEGRADED');
    const degraded = stalled.conditions.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'Stalled' });
    expect(degraded?.message).toMatch(/no progress for \d+ s while \d+ records are behind/);

    process.kill(frozenPid, 'SIGCONT');
    frozenPid = undefined;
    const recovered = await eventually(view, (q) => q.phase === 'RUNNING', 90_000, 'RUNNING again');
    expect(recovered.conditions.find((c) => c.type === 'Degraded')?.status).not.toBe('True');

    expect(await t.call('POST', `/api/v1/queries/${id}/stop`)).toMatchObject({ status: 202 });
    await eventually(view, (q) => q.phase === 'STOPPED', 60_000, 'stopped');
  }, 240_000);
});
