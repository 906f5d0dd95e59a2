// The live scaling loop against the real PostgreSQL, Redis and Kafka: stand-in engines (they
// process nothing) plus synthetic Spark progress on `sluice.progress` that first shows input far
// above what the query processes (with lag growing on the source topic), then idle input.
// Observe mode decides and records only; auto mode scales out within the partition cap and back in.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import {
  eventsSpec,
  eventually,
  forgetTestQueries,
  STAND_IN_ENGINE,
  startTestApp,
  type TestApp,
  killTestInstances,
} from './support/test-app';

type ScalingEvent = {
  id: string;
  at: string;
  policy: string;
  mode: string;
  direction: string;
  fromInstances: number;
  toInstances: number;
  reason: string;
  inputs: Record<string, unknown>;
  acted: boolean;
};
type Detail = { phase: string; desired: { instances: number } };
type Op = { id: string; type: string; state: string; requestedBy?: string };

let t: TestApp;
const suffix = randomUUID().slice(0, 8);
const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:59092');
const PARTITIONS = 4;
const topic = `it-scale-src-${suffix}`;
const name = `scaling-${suffix}`;
let id: string;
let producer: Producer;
let load: 'overload' | 'idle' = 'overload';
let timer: NodeJS.Timeout | undefined;
let batchId = 0;

const fixture = JSON.parse(
  fs.readFileSync(
    path.resolve(__dirname, '../../../libs/contracts/test/fixtures/spark-progress-kafka.json'),
    'utf8',
  ),
) as Record<string, unknown>;

const spec = (): string => eventsSpec(name, topic, `it-scale-out-${suffix}`);

/** One synthetic batch per second: 3 s batches of 5000 rows (overloaded) or 50 ms of 10 rows (idle). */
async function emit(): Promise<void> {
  const overloaded = load === 'overload';
  const rows = overloaded ? 5000 : 10;
  const duration = overloaded ? 3000 : 50;
  batchId += 1;
  const event = {
    ...fixture,
    id,
    batchId,
    timestamp: new Date(Date.now() - duration).toISOString(),
    batchDuration: duration,
    numInputRows: rows,
    inputRowsPerSecond: rows,
    processedRowsPerSecond: (rows * 1000) / duration,
    durationMs: { ...(fixture.durationMs as object), triggerExecution: duration },
  };
  await producer.send({ topic: 'sluice.progress', messages: [{ key: id, value: JSON.stringify(event) }] });
  if (overloaded) {
    // Nothing consumes the source topic (stand-in engines), so its lag keeps growing.
    await producer.send({
      topic,
      messages: Array.from({ length: 200 }, (_, i) => ({
        value: JSON.stringify({ user_id: `u${i}`, amount: i }),
      })),
    });
  }
}

const detail = () => t.call<Detail>('GET', `/api/v1/queries/${id}`).then((r) => r.body);
const events = (limit = 200) =>
  t.call<ScalingEvent[]>('GET', `/api/v1/queries/${id}/scaling-events?limit=${limit}`).then((r) => r.body);
const operations = () =>
  t.call<Op[]>('GET', `/api/v1/queries/${id}/operations?limit=100`).then((r) => r.body);

beforeAll(async () => {
  t = await startTestApp({
    SLUICE_ENGINE_COMMAND: JSON.stringify([process.execPath, STAND_IN_ENGINE]),
    SLUICE_SCALING_INTERVAL_MS: '1000',
    SLUICE_SCALING_COOLDOWN_MS: '2000',
    SLUICE_SCALING_POLICY_SETTINGS: JSON.stringify({ 'spark-ratio': { scalingIntervalSeconds: 2 } }),
  });
  const kafka = createKafka({ brokers, clientId: 'it-scaling' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: PARTITIONS }]);
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  const created = await t.call<{ id: string }>('POST', '/api/v1/queries', spec());
  expect(created.status).toBe(201);
  id = created.body.id;
  await eventually(detail, (d) => d.phase === 'RUNNING', 60_000, 'query running');
  timer = setInterval(() => void emit().catch(() => undefined), 1000);
}, 120_000);

afterAll(async () => {
  clearInterval(timer);
  await producer?.disconnect();
  // Leave no engine processes behind. Close first: a running control plane would restart the engines we kill.
  await t?.close();
  if (t) killTestInstances(t.home);
  await forgetTestQueries(suffix);
});

describe('scaling loop', () => {
  it('observe mode records decisions with reason and inputs and never scales', async () => {
    const settings = await t.call<{
      policy: string;
      mode: string;
      minInstances: number;
      maxInstances: number | null;
      backpressure: boolean;
    }>('GET', `/api/v1/queries/${id}/scaling`);
    expect(settings.body).toEqual({
      policy: 'sluice',
      mode: 'observe',
      minInstances: 1,
      maxInstances: null,
      backpressure: true,
      cpuLimit: null,
    });
    const rows = await eventually(
      () => events(),
      (es) =>
        es.filter(
          (e) =>
            e.inputs.samples !== 0 &&
            typeof e.inputs.lagRecords === 'number' &&
            (e.inputs.lagRecords as number) > 0,
        ).length >= 3,
      60_000,
      'observe-mode scaling events with progress and lag',
    );
    for (const e of rows) {
      expect(e).toMatchObject({ policy: 'sluice', mode: 'observe', acted: false, fromInstances: 1 });
      expect(e.reason.length).toBeGreaterThan(0);
      expect(e.inputs).toMatchObject({ partitions: PARTITIONS, triggerMs: 1000 });
      expect(e.toInstances).toBeLessThanOrEqual(PARTITIONS);
    }
    expect((await detail()).desired.instances).toBe(1);
    expect((await operations()).filter((o) => o.type === 'scale')).toEqual([]);
  }, 90_000);

  it('rejects an unknown policy naming the field, and limits below the minimum', async () => {
    const bad = await t.call<{ code: string; errors: Array<{ path: string; message: string }> }>(
      'POST',
      `/api/v1/queries/${id}/scaling`,
      { policy: 'magic' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.errors[0]?.path).toBe('policy');
    const inverted = await t.call<{ errors: Array<{ path: string }> }>(
      'POST',
      `/api/v1/queries/${id}/scaling`,
      { minInstances: 3, maxInstances: 2 },
    );
    expect(inverted.status).toBe(400);
    expect(inverted.body.errors[0]?.path).toBe('maxInstances');
    // The CPU limit is bounded (a quota below 1 ms per 100 ms period is refused by the kernel).
    for (const cpuLimit of [0, 0.001, 1000, 'lots', true]) {
      const r = await t.call<{ code: string; errors: Array<{ path: string }> }>(
        'POST',
        `/api/v1/queries/${id}/scaling`,
        { cpuLimit },
      );
      expect(r.status, `cpuLimit ${String(cpuLimit)}`).toBe(400);
      expect(r.body.errors[0]?.path).toBe('cpuLimit');
    }
    const limited = await t.call<{ cpuLimit: number | null }>('POST', `/api/v1/queries/${id}/scaling`, {
      cpuLimit: 0.5,
    });
    expect(limited.status).toBe(200);
    expect(limited.body.cpuLimit).toBe(0.5);
    // The running instance gets it in place; the instance view says whether the cgroup took it
    // (it does where /sys/fs/cgroup is writable; elsewhere the reason is shown, never a pretence).
    type Limits = { instances: Array<{ cpuLimit: Record<string, unknown> | null }> };
    const instanceView = () => t.call<Limits>('GET', `/api/v1/queries/${id}`).then((r) => r.body);
    const shown = await eventually(
      instanceView,
      (d) => d.instances.length > 0 && d.instances.every((i) => i.cpuLimit?.requested === 0.5),
      30_000,
      'cpu limit shown on the instances',
    );
    for (const i of shown.instances) {
      const c = i.cpuLimit ?? {};
      if (c.applied === true) expect(c).toMatchObject({ quotaUs: 50_000, periodUs: 100_000 });
      else expect(typeof c.reason).toBe('string');
    }
    const lifted = await t.call<{ cpuLimit: number | null }>('POST', `/api/v1/queries/${id}/scaling`, {
      cpuLimit: null,
    });
    expect(lifted.body.cpuLimit).toBeNull();
    await eventually(
      instanceView,
      (d) => d.instances.every((i) => i.cpuLimit === null || i.cpuLimit.requested === null),
      30_000,
      'cpu limit lifted from the instances',
    );
    const missing = await t.call('GET', `/api/v1/queries/${randomUUID()}/scaling-events`);
    expect(missing.status).toBe(404);
  });

  it('auto mode scales out within the partition cap, then back in when the input goes idle', async () => {
    const r = await t.call<{ policy: string; mode: string; maxInstances: number }>(
      'POST',
      `/api/v1/queries/${id}/scaling`,
      {
        policy: 'spark-ratio',
        mode: 'auto',
        maxInstances: 16,
      },
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ policy: 'spark-ratio', mode: 'auto', maxInstances: 16 });
    const audit = await t.call<Array<{ action: string; target: string }>>(
      'GET',
      `/api/v1/audit?target=${encodeURIComponent(`query/${id}`)}`,
    );
    expect(audit.body.some((a) => a.action === 'query.scaling')).toBe(true);

    const up = await eventually(detail, (d) => d.desired.instances > 1, 60_000, 'scale-out');
    expect(up.desired.instances).toBeLessThanOrEqual(PARTITIONS);
    const scaledUp = (await events()).find((e) => e.direction === 'up' && e.acted);
    expect(scaledUp).toMatchObject({ policy: 'spark-ratio', mode: 'auto', fromInstances: 1 });
    expect(scaledUp?.inputs).toMatchObject({ scaled: true, partitions: PARTITIONS });
    // 16 allowed by the query, 4 partitions: the loop never asks for more than the partitions.
    expect((await events()).every((e) => e.toInstances <= PARTITIONS)).toBe(true);
    const scaleOps = (await operations()).filter((o) => o.type === 'scale');
    expect(scaleOps.length).toBeGreaterThan(0);

    load = 'idle';
    await eventually(detail, (d) => d.desired.instances === 1, 90_000, 'scale-in to one instance');
    const history = await events(500);
    expect(history.some((e) => e.direction === 'down' && e.acted)).toBe(true);
    // Cooldown: two scale actions are never closer than SLUICE_SCALING_COOLDOWN_MS.
    const actions = history
      .filter((e) => e.inputs.scaled === true)
      .map((e) => Date.parse(e.at))
      .sort((a, b) => a - b);
    for (let i = 1; i < actions.length; i++)
      expect(actions[i]! - actions[i - 1]!).toBeGreaterThanOrEqual(2000);

    const metrics = await fetch(`${t.base}/metrics`, {
      headers: { Authorization: `Bearer ${t.token}` },
    }).then((m) => m.text());
    expect(metrics).toMatch(
      new RegExp(
        `sluice_scaling_decisions_total\\{query="${name}",policy="spark-ratio",direction="up"\\} [1-9]`,
      ),
    );
    expect(metrics).toMatch(
      new RegExp(
        `sluice_scaling_decisions_total\\{query="${name}",policy="sluice",direction="none"\\} [1-9]`,
      ),
    );
  }, 180_000);
});
