// A control plane SIGKILLed in the middle of an upgrade's health gate: the restarted one adopts
// the running engines, resumes the operation at its step (the gate keeps its clock and counts
// the batches committed while nobody watched) and completes it; the sink saw every record once.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { freePort } from '@sluice/testing';
import {
  apiCall,
  engineProcessCount,
  killEngines,
  startControlPlane,
  type ControlPlaneProcess,
} from './support/control-plane-process';
import { eventually } from './support/test-app';
import { isolatedStack, type IsolatedStack } from './upgrade-support';
import { REDIS_INDEXES } from './support/redis-indexes';

const suffix = randomUUID().slice(0, 8);
const topic = `it-upg-resume-${suffix}`;
const output = `it-upg-resume-out-${suffix}`;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-upgrade-resume-'));
const kafka = createKafka({
  brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
  clientId: 'it-upg-resume',
});
let stack: IsolatedStack;
let port: number;
let token: string;
let cp: ControlPlaneProcess | undefined;

const spec = (where: string) =>
  [
    `name: resume-${suffix}`,
    'sources:',
    '  events:',
    `    kafka: { topic: ${topic}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { id: long, amount: long }',
    `sql: SELECT id, amount FROM events WHERE ${where}`,
    'sink:',
    `  kafka: { topic: ${output} }`,
    'trigger: { processingTime: 500 milliseconds }',
    '',
  ].join('\n');

/** (Re)starts the control plane on the same port and home, as a restarted pod would be. */
async function start(): Promise<void> {
  cp = await startControlPlane({
    port,
    home,
    readyTimeoutMs: 60_000,
    env: {
      ...process.env,
      ...stack.env,
      SLUICE_CLUSTER_NAME: `it-upgrade-resume-${suffix}`,
      SLUICE_RECONCILE_INTERVAL_MS: '1000',
      SLUICE_INSTANCE_SETTLE_MS: '1500',
      LOG_LEVEL: 'warn',
    },
  });
}

const call = <T>(method: string, url: string, body?: unknown) =>
  apiCall<T>(`http://127.0.0.1:${port}`, token, method, url, body);

interface Op {
  id: string;
  state: string;
  error: string | null;
  attempts: number;
  steps: Array<{ name: string; state: string; figures?: Record<string, unknown> }>;
}
const operation = (id: string) => call<Op>('GET', `/api/v1/operations/${id}`).then((r) => r.body);

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
  await admin.disconnect();
  stack = await isolatedStack('sluice_it_upgrade_resume', REDIS_INDEXES.upgradeResume);
  token = stack.token('admin', `upgrade-resume-${suffix}`);
  port = await freePort();
  await start();
});

afterAll(async () => {
  await cp?.kill();
  killEngines(home);
  await stack?.drop();
});

describe('an upgrade survives the control plane', () => {
  it('resumes the operation at its step after a SIGKILL and completes it', async () => {
    const created = await call<{ id: string; operation: { id: string } }>(
      'POST',
      '/api/v1/queries',
      spec('amount >= 0'),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    await eventually(
      () => operation(created.body.operation.id),
      (o) => o.state === 'SUCCEEDED',
      90_000,
      'deploy',
    );
    expect(
      (await call('POST', `/api/v1/queries/${id}/versions`, spec('amount >= 0 AND amount < 1000'))).status,
    ).toBe(201);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let produced = 0;
    let producing = true;
    const feeding = (async () => {
      while (producing) {
        await producer.send({
          topic,
          messages: Array.from({ length: 20 }, (_, i) => ({
            key: String((produced + i) % 5),
            value: JSON.stringify({ id: produced + i, amount: (produced + i) % 100 }),
          })),
        });
        produced += 20;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // A long gate (20 batches) so the kill lands in it.
    const upgrade = await call<Op>('POST', `/api/v1/queries/${id}/upgrade`, {
      version: 2,
      healthGate: { batches: 20, windowSeconds: 300 },
    });
    expect(upgrade.status).toBe(202);
    await eventually(
      () => operation(upgrade.body.id),
      (o) => o.steps.find((s) => s.name === 'health gate')?.state === 'running',
      120_000,
      'the health gate running',
    );
    await cp?.kill();
    await new Promise((r) => setTimeout(r, 2000));
    await start();

    const op = await eventually(
      () => operation(upgrade.body.id),
      (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
      240_000,
      'the upgrade after the restart',
    );
    expect(op.state, op.error ?? '').toBe('SUCCEEDED');
    expect(op.attempts).toBeGreaterThanOrEqual(2);
    expect(op.steps.every((s) => s.state === 'done')).toBe(true);
    expect(op.steps.find((s) => s.name === 'health gate')?.figures?.batches as number).toBeGreaterThanOrEqual(
      20,
    );
    const q = await call<{
      phase: string;
      desired: { version: number };
      observed: { lastGoodVersion: number };
    }>('GET', `/api/v1/queries/${id}`);
    expect(q.body).toMatchObject({
      phase: 'RUNNING',
      desired: { version: 2 },
      observed: { lastGoodVersion: 2 },
    });
    // The restarted control plane adopted the engine: one process, not two.
    expect(engineProcessCount(home, id, 'real')).toBe(1);

    producing = false;
    await feeding;
    await producer.disconnect();
    // Exactly once across both versions and the restart: every id in the output once.
    const seen = new Map<number, number>();
    const consumer = kafka.consumer({ groupId: `it-upg-resume-check-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: output, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const n = (JSON.parse(message.value!.toString()) as { id: number }).id;
        seen.set(n, (seen.get(n) ?? 0) + 1);
      },
    });
    await eventually(
      async () => seen.size,
      (n) => n >= produced,
      90_000,
      'every record in the output',
    );
    await new Promise((r) => setTimeout(r, 3000));
    await consumer.disconnect();
    expect(seen.size).toBe(produced);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  }, 600_000);
});
