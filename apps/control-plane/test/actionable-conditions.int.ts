// Errors the user can act on surface in the query's conditions, not only in an engine's log (real
// Kafka and PostgreSQL). A query whose source topic does not exist runs engines that wait for it:
// the query shows SourceReady=False naming the topic, and once the topic is created the condition
// goes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killEngines, STAND_IN_ENGINE_ENV } from './support/control-plane-process';
import { createEventsTopic } from './support/events-topic';
import { eventsSpec, eventually, startTestApp, type TestApp } from './support/test-app';
import { isolatedStack, type IsolatedStack } from './upgrade-support';

const suffix = randomUUID().slice(0, 8);
// A database of its own: a control plane on the shared one (another suite's, or a developer's)
// would reconcile these queries too, and its engines would create the missing topic by
// subscribing to it (the local broker auto-creates topics).
let stack: IsolatedStack;
let admin: string;
const apps: TestApp[] = [];

interface QueryView {
  phase: string;
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
}

async function app(env: Record<string, string>): Promise<TestApp> {
  const t = await startTestApp({ ...stack.env, ...env });
  apps.push(t);
  return t;
}

beforeAll(async () => {
  stack = await isolatedStack('sluice_it_actionable', 10);
  admin = stack.token('admin', `actionable-${suffix}`);
});

afterAll(async () => {
  for (const t of apps) {
    await t.close();
    killEngines(t.home);
  }
  await stack?.drop();
});

describe('conditions the user can act on', () => {
  it('a missing source topic shows as SourceReady=False naming it, and clears once it exists', async () => {
    // The stand-in engine: it never subscribes, so nothing creates the topic but this test.
    const t = await app(STAND_IN_ENGINE_ENV);
    const topic = `it-missing-${suffix}`;
    const created = await t.call<{ id: string }>(
      'POST',
      '/api/v1/queries',
      eventsSpec(`missing-${suffix}`, topic, `it-missing-out-${suffix}`),
      admin,
    );
    expect(created.status).toBe(201);
    const view = () =>
      t.call<QueryView>('GET', `/api/v1/queries/${created.body.id}`, undefined, admin).then((r) => r.body);
    const sourceReady = (q: QueryView) => q.conditions.find((c) => c.type === 'SourceReady');

    const waiting = await eventually(view, (q) => sourceReady(q) !== undefined, 60_000, 'SourceReady');
    expect(sourceReady(waiting)).toMatchObject({ status: 'False', reason: 'SourceTopicMissing' });
    expect(sourceReady(waiting)?.message).toContain(`"${topic}" does not exist`);

    await createEventsTopic(topic, 1);
    const fixed = await eventually(view, (q) => sourceReady(q) === undefined, 60_000, 'SourceReady cleared');
    expect(fixed.phase).toBe('RUNNING');
    await t.call('POST', `/api/v1/queries/${created.body.id}/stop`, undefined, admin);
  }, 180_000);
});
