// The query lifecycle through the API against the real PostgreSQL, Redis (BullMQ) and Kafka:
// operations, reconcile, crash handling, 409/422/404, progress ingest, lag and metrics.
// Engine processes are the stand-in (fixtures/stand-in-engine.js): these tests are about the
// control plane's supervision, not about data processing.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import {
  eventsSpec,
  eventually,
  forgetTestQueries,
  startTestApp,
  STAND_IN_ENGINE,
  type TestApp,
  killTestInstances,
} from './support/test-app';

type Op = {
  id: string;
  state: string;
  progress: number;
  type: string;
  error: string | null;
  steps: Array<{ name: string; state: string }>;
};
type Detail = {
  phase: string;
  instances: Array<{ name: string; status: string; restarts: number; ref: string }>;
  conditions: Array<{
    type: string;
    status: string;
    reason: string;
    message: string;
    lastTransitionTime: string;
  }>;
  desired: { instances: number; version: number; state: string };
  observedGeneration: number;
  generation: number;
};

let t: TestApp;
const suffix = randomUUID().slice(0, 8);
const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:59092');

const spec = (name: string, topic = `it-src-${suffix}`): string =>
  eventsSpec(name, topic, `it-out-${suffix}`);

const opDone = (id: string) =>
  eventually(
    () => t.call<Op>('GET', `/api/v1/operations/${id}`).then((r) => r.body),
    (op) => op.state === 'SUCCEEDED' || op.state === 'FAILED',
    90_000,
    `operation ${id}`,
  );

const detail = (id: string) => t.call<Detail>('GET', `/api/v1/queries/${id}`).then((r) => r.body);

beforeAll(async () => {
  t = await startTestApp({ SLUICE_ENGINE_COMMAND: JSON.stringify([process.execPath, STAND_IN_ENGINE]) });
});

afterAll(async () => {
  // Leave no engine processes behind. Close first: a running control plane would restart the
  // engines we kill.
  await t?.close();
  if (t) killTestInstances(t.home);
  await forgetTestQueries(suffix);
});

describe('query specs', () => {
  it('422 lists every error with its path, line and column', async () => {
    const bad = spec(`bad-${suffix}`).replace('outputMode: append', 'outputMode: sideways');
    const r = await t.call<{
      code: string;
      errors: Array<{ path: string; line: number; column: number; message: string }>;
    }>('POST', '/api/v1/queries', bad);
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('INVALID_SPEC');
    const e = r.body.errors.find((x) => x.path === 'outputMode');
    expect(e).toBeDefined();
    expect(e?.line).toBe(11);
    expect(e?.column).toBeGreaterThan(0);
  });

  it('404 for unknown and malformed ids', async () => {
    expect((await t.call('GET', `/api/v1/queries/${randomUUID()}`)).status).toBe(404);
    expect((await t.call('GET', '/api/v1/queries/not-an-id')).status).toBe(404);
    expect((await t.call('GET', `/api/v1/operations/${randomUUID()}`)).status).toBe(404);
  });
});

describe('query lifecycle', () => {
  let id: string;

  it('deploys a new query: the operation succeeds and one instance runs', async () => {
    const r = await t.call<{ id: string; version: number; operation: Op }>(
      'POST',
      '/api/v1/queries',
      spec(`life-${suffix}`),
    );
    expect(r.status).toBe(201);
    expect(r.body.version).toBe(1);
    id = r.body.id;
    const op = await opDone(r.body.operation.id);
    expect(op).toMatchObject({ state: 'SUCCEEDED', progress: 100, type: 'deploy' });
    expect(op.steps.every((s) => s.state === 'done')).toBe(true);
    const d = await detail(id);
    expect(d.phase).toBe('RUNNING');
    expect(d.instances.map((i) => [i.name, i.status])).toEqual([[`life-${suffix}-0`, 'RUNNING']]);
    expect(d.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(d.observedGeneration).toBe(d.generation);
  });

  it('a second operation while one is active is 409 naming the running one', async () => {
    const first = await t.call<Op>('POST', `/api/v1/queries/${id}/scale`, { instances: 3 });
    expect(first.status).toBe(202);
    const second = await t.call<{ code: string; message: string; operationId: string }>(
      'POST',
      `/api/v1/queries/${id}/scale`,
      { instances: 2 },
    );
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('OPERATION_IN_PROGRESS');
    expect(second.body.operationId).toBe(first.body.id);
    expect(second.body.message).toContain(first.body.id);
    expect((await opDone(first.body.id)).state).toBe('SUCCEEDED');
  });

  it('scales 1 → 3 → 1 and the instances follow', async () => {
    expect((await detail(id)).instances.filter((i) => i.status === 'RUNNING')).toHaveLength(3);
    const down = await t.call<Op>('POST', `/api/v1/queries/${id}/scale`, { instances: 1 });
    expect((await opDone(down.body.id)).state).toBe('SUCCEEDED');
    const d = await eventually(
      () => detail(id),
      (x) => x.instances.length === 1,
      30_000,
      'scale-in cleanup',
    );
    expect(d.instances.map((i) => i.name)).toEqual([`life-${suffix}-0`]);
  });

  it('rejects a scale beyond the limit with the field at fault', async () => {
    const r = await t.call<{ code: string; errors: Array<{ path: string }> }>(
      'POST',
      `/api/v1/queries/${id}/scale`,
      { instances: 0 },
    );
    expect(r.status).toBe(400);
    expect(r.body.errors[0]?.path).toBe('instances');
  });

  it('restarts a killed engine process', async () => {
    const before = (await detail(id)).instances[0]!;
    process.kill(Number(before.ref.replace('pid:', '')), 'SIGKILL');
    const after = await eventually(
      () => detail(id),
      (d) => d.instances[0]?.status === 'RUNNING' && d.instances[0].ref !== before.ref,
      30_000,
      'restart after kill',
    );
    expect(after.instances[0]?.restarts).toBe(before.restarts + 1);
  });

  it('stop drains the instances and the query reads STOPPED', async () => {
    const stop = await t.call<Op>('POST', `/api/v1/queries/${id}/stop`);
    expect((await opDone(stop.body.id)).state).toBe('SUCCEEDED');
    const d = await detail(id);
    expect(d.phase).toBe('STOPPED');
    const log = fs
      .readdirSync(path.join(t.home, 'logs', id))
      .map((f) => fs.readFileSync(path.join(t.home, 'logs', id, f), 'utf8'))
      .join('');
    expect(log).toContain('drained');
  });

  it('records every mutation in the audit log with before and after', async () => {
    const r = await t.call<
      Array<{
        action: string;
        before: { desired: { instances: number } } | null;
        after: { desired: { instances: number } };
      }>
    >('GET', `/api/v1/audit?target=query/${id}`);
    const actions = r.body.map((a) => a.action).reverse();
    expect(actions).toEqual(['query.create', 'query.scale', 'query.scale', 'query.stop']);
    const scaleIn = r.body.find((a) => a.action === 'query.scale' && a.after.desired.instances === 1);
    expect(scaleIn?.before?.desired.instances).toBe(3);
  });
});

describe('crash loops', () => {
  it('a spec whose engine keeps crashing ends FAILED with the reason', async () => {
    const r = await t.call<{ id: string; operation: Op }>(
      'POST',
      '/api/v1/queries',
      spec(`crashloop-${suffix}`),
    );
    expect(r.status).toBe(201);
    const op = await opDone(r.body.operation.id);
    expect(op.state).toBe('FAILED');
    expect(op.error).toContain('CrashLoop');
    const d = await detail(r.body.id);
    expect(d.phase).toBe('FAILED');
    expect(d.conditions.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'CrashLoop',
    });
  });
});

describe('progress, lag and metrics', () => {
  it('ingests Spark progress events from Kafka and serves them back', async () => {
    const created = await t.call<{ id: string }>(
      'POST',
      '/api/v1/queries?deploy=false',
      spec(`progress-${suffix}`),
    );
    const id = created.body.id;
    const fixture = JSON.parse(
      fs.readFileSync(
        path.resolve(__dirname, '../../../libs/contracts/test/fixtures/spark-progress-kafka.json'),
        'utf8',
      ),
    ) as Record<string, unknown>;
    const kafka = createKafka({ brokers, clientId: 'it-progress' });
    const producer = kafka.producer();
    await producer.connect();
    const events = [1, 2, 3].map((n) => ({
      ...fixture,
      id,
      batchId: n,
      timestamp: new Date(Date.now() - (3 - n) * 1000).toISOString(),
    }));
    // A valid event of a query id that is not a UUID (a foreign engine) must not stall ingestion.
    const foreign = { key: 'not-a-uuid', value: JSON.stringify({ ...fixture, id: 'not-a-uuid' }) };
    await producer.send({
      topic: 'sluice.progress',
      messages: [
        foreign,
        ...events.map((e) => ({ key: id, value: JSON.stringify(e) })),
        { key: id, value: '{"id": 42}' },
      ],
    });
    await producer.disconnect();
    const stored = await eventually(
      () =>
        t
          .call<Array<{ batchId: number; unknownFieldsKept?: unknown }>>(
            'GET',
            `/api/v1/queries/${id}/progress?limit=10`,
          )
          .then((r) => r.body),
      (rows) => rows.length === 3,
      30_000,
      'progress rows',
    );
    expect(stored.map((p) => p.batchId)).toEqual([3, 2, 1]);
    const metrics = await fetch(`${t.base}/metrics`, {
      headers: { Authorization: `Bearer ${t.token}` },
    }).then((r) => r.text());
    expect(metrics).toContain(`sluice_query_input_rows_per_second{query="progress-${suffix}"} 2560`);
    expect(metrics).toMatch(/sluice_progress_events_total\{result="invalid"\} [1-9]/);
    const d = await t.call<{ lastProgress: { batchId: number } }>('GET', `/api/v1/queries/${id}`);
    expect(d.body.lastProgress.batchId).toBe(3);
  });

  it('reports per-partition lag of the query consumer group', async () => {
    const topic = `it-lag-${suffix}`;
    const created = await t.call<{ id: string }>(
      'POST',
      '/api/v1/queries?deploy=false',
      spec(`lag-${suffix}`, topic),
    );
    const id = created.body.id;
    const kafka = createKafka({ brokers, clientId: 'it-lag' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i), partition: 0 })),
    });
    await producer.send({
      topic,
      messages: Array.from({ length: 4 }, (_, i) => ({ value: String(i), partition: 1 })),
    });
    await producer.disconnect();
    await admin.setOffsets({
      groupId: `sluice-${id}`,
      topic,
      partitions: [
        { partition: 0, offset: '7' },
        { partition: 1, offset: '4' },
      ],
    });
    await admin.disconnect();
    const lag = await t.call<{
      totalRecordsBehind: number;
      partitions: Array<{
        partition: number;
        committedOffset: number;
        endOffset: number;
        recordsBehind: number;
      }>;
    }>('GET', `/api/v1/queries/${id}/lag`);
    expect(lag.status).toBe(200);
    expect(
      lag.body.partitions.map((p) => [p.partition, p.committedOffset, p.endOffset, p.recordsBehind]),
    ).toEqual([
      [0, 7, 10, 3],
      [1, 4, 4, 0],
    ]);
    expect(lag.body.totalRecordsBehind).toBe(3);
  });
});
