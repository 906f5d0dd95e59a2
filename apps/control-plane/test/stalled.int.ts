// Stalled, fed with real lag: a real engine is frozen (SIGSTOP: its process is alive, so nothing
// crashed) while records keep arriving. The query must turn DEGRADED with reason Stalled, naming
// the records behind; once the engine resumes (SIGCONT) and catches up, it is RUNNING again.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { eventually, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
const suffix = randomUUID().slice(0, 8);
const topic = `it-stall-${suffix}`;
const kafka = createKafka({ brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''), clientId: 'it-stalled' });
let frozenPid: number | undefined;

async function produce(count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({
      value: JSON.stringify({ user_id: `u${i % 5}`, amount: i }),
    })),
  });
  await producer.disconnect();
}

interface QueryView {
  phase: string;
  lastProgress: unknown;
  conditions: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
  await admin.disconnect();
  await produce(100);
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
    const spec = [
      `name: stall-${suffix}`,
      'sources:',
      '  events:',
      `    kafka: { topic: ${topic}, startingOffsets: earliest }`,
      '    format: json',
      '    schema: { user_id: string, amount: long }',
      'sql: SELECT user_id, amount FROM events WHERE amount > 10',
      'sink:',
      `  kafka: { topic: it-stall-out-${suffix} }`,
      'trigger: { processingTime: 500 milliseconds }',
      '',
    ].join('\n');
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
    await produce(200);
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
