// Errors the user can act on surface in the query's conditions, not only in an engine's log (real
// Kafka and PostgreSQL). A query whose source topic does not exist runs engines that wait for it:
// the query shows SourceReady=False naming the topic, and once the topic is created the condition
// goes. A query whose PostgreSQL sink refuses connections runs engines that wait for it: the query
// shows SinkReady=False (SinkRefused) with the engine's error, and once the sink answers and
// batches commit, the condition goes.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@sluice/testing';
import { killEngines, STAND_IN_ENGINE_ENV } from './support/control-plane-process';
import { createEventsTopic, produceEvents } from './support/events-topic';
import { eventsSpec, eventually, startTestApp, type TestApp } from './support/test-app';
import { isolatedStack, type IsolatedStack } from './upgrade-support';
import { REDIS_INDEXES } from './support/redis-indexes';

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
  stack = await isolatedStack('sluice_it_actionable', REDIS_INDEXES.actionableConditions);
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
  it('a PostgreSQL sink that refuses shows as SinkReady=False/SinkRefused with the error, and clears once batches commit', async () => {
    // The sink database is reached through a port that first refuses connections, then forwards
    // to the real sink database (as a sink coming back would).
    const sinkUrl = new URL(process.env.SLUICE_SINK_DATABASE_URL!);
    const port = await freePort();
    const refusingUrl = new URL(sinkUrl);
    refusingUrl.port = String(port);
    const t = await app({ SLUICE_SINK_DATABASE_URL: refusingUrl.toString() });
    const topic = `it-sink-refused-${suffix}`;
    const table = `refused_${suffix}`;
    await createEventsTopic(topic, 1, 20);
    const spec = [
      `name: refused-${suffix}`,
      'sources:',
      '  events:',
      `    kafka: { topic: ${topic}, startingOffsets: earliest }`,
      '    format: json',
      '    schema: { user_id: string, amount: long }',
      'sql: SELECT user_id, amount FROM events',
      'sink:',
      `  postgres: { table: ${table}, key: [user_id] }`,
      'outputMode: append',
      'trigger: { processingTime: 1 second }',
      '',
    ].join('\n');
    const created = await t.call<{ id: string }>('POST', '/api/v1/queries', spec, admin);
    expect(created.status).toBe(201);
    const view = () =>
      t.call<QueryView>('GET', `/api/v1/queries/${created.body.id}`, undefined, admin).then((r) => r.body);
    const sinkReady = (q: QueryView) => q.conditions.find((c) => c.type === 'SinkReady');

    const refused = await eventually(view, (q) => sinkReady(q) !== undefined, 180_000, 'SinkReady');
    expect(sinkReady(refused)).toMatchObject({ status: 'False', reason: 'SinkRefused' });
    expect(sinkReady(refused)?.message).toContain('sink database');
    expect(sinkReady(refused)?.message).toContain('ECONNREFUSED');

    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(sinkUrl.port), sinkUrl.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      await produceEvents(topic, 5);
      const fixed = await eventually(view, (q) => sinkReady(q) === undefined, 180_000, 'SinkReady cleared');
      expect(fixed.phase).toBe('RUNNING');
      // The batches did commit: the rows are in the sink table.
      const sink = new Client({ connectionString: sinkUrl.toString() });
      await sink.connect();
      try {
        const rows = await sink.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
        expect(Number(rows.rows[0]?.n)).toBeGreaterThan(0);
        await sink.query(`DROP TABLE IF EXISTS "${table}"`);
      } finally {
        await sink.end();
      }
      await t.call('POST', `/api/v1/queries/${created.body.id}/stop`, undefined, admin);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  }, 420_000);
});
