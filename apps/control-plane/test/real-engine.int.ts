// The control plane deploying the real engine (not the stand-in): instances start, the engine's
// progress arrives through Kafka and shows up in the API, lag and metrics; stop drains it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventsTopic } from './support/events-topic';
import { eventsSpec, eventually, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
const suffix = randomUUID().slice(0, 8);
const topic = `it-real-${suffix}`;

beforeAll(async () => {
  await createEventsTopic(topic, 2, 500);
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
  await forgetTestQueries(suffix);
});

describe('control plane with the real engine', () => {
  it('deploys, receives progress, reports lag and metrics, and stops by draining', async () => {
    const spec = eventsSpec(`real-${suffix}`, topic, `it-real-out-${suffix}`, '500 milliseconds');
    const created = await t.call<{ id: string }>('POST', '/api/v1/queries?deploy=false', spec);
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Watch the query's server-sent events from before the deploy.
    const sse = await fetch(`${t.base}/api/v1/queries/${id}/events`, {
      headers: { Authorization: `Bearer ${t.token}` },
    });
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = sse.body!.getReader();
    let streamed = '';
    const seen = (async () => {
      while (!['event: progress', 'event: operation', 'event: status'].every((e) => streamed.includes(e))) {
        const { value, done } = await reader.read();
        if (done) break;
        streamed += Buffer.from(value).toString('utf8');
      }
    })();
    expect((await t.call('POST', `/api/v1/queries/${id}/deploy`, { version: 1 })).status).toBe(202);
    const withProgress = await eventually(
      () =>
        t
          .call<{
            phase: string;
            lastProgress: { numInputRows: number; sluice?: { instance: string } } | null;
          }>('GET', `/api/v1/queries/${id}`)
          .then((r) => r.body),
      // Progress can reach the API before the deploy settles (engines start in about a second):
      // wait for both (CI run 16 read DEPLOYING with progress).
      (q) => q.lastProgress !== null && q.phase === 'RUNNING',
      90_000,
      'engine progress in the API while RUNNING',
    );
    expect(withProgress.phase).toBe('RUNNING');
    expect(withProgress.lastProgress?.sluice?.instance).toBe(`real-${suffix}-0`);
    await Promise.race([seen, new Promise((r) => setTimeout(r, 30_000))]);
    await reader.cancel();
    for (const e of ['event: progress', 'event: operation', 'event: status']) expect(streamed).toContain(e);

    const lag = await eventually(
      () =>
        t
          .call<{ totalRecordsBehind: number; partitions: Array<{ committedOffset: number | null }> }>(
            'GET',
            `/api/v1/queries/${id}/lag`,
          )
          .then((r) => r.body),
      (l) => l.totalRecordsBehind === 0 && l.partitions.length === 2,
      60_000,
      'lag drained to 0',
    );
    expect(lag.partitions.every((p) => p.committedOffset !== null)).toBe(true);
    // (Spark omits the input rate of a run's first batch, so the processed rate is the one to expect.)
    const metrics = await (
      await fetch(`${t.base}/metrics`, { headers: { Authorization: `Bearer ${t.token}` } })
    ).text();
    expect(metrics).toMatch(
      new RegExp(`sluice_query_processed_rows_per_second\\{query="real-${suffix}"\\} [0-9.]+`),
    );

    const stopped = await t.call<{ id: string }>('POST', `/api/v1/queries/${id}/stop`);
    expect(stopped.status).toBe(202);
    await eventually(
      () =>
        t.call<{ phase: string; instances: unknown[] }>('GET', `/api/v1/queries/${id}`).then((r) => r.body),
      (q) => q.phase === 'STOPPED' && q.instances.length === 0,
      60_000,
      'drained',
    );
  }, 180_000);

  it('a rate limit sent the moment a deploy reaches RUNNING succeeds only once the engine acknowledged it', async () => {
    type Op = {
      id: string;
      state: string;
      steps: Array<{ name: string; state: string; message?: string }>;
    };
    const opDone = (opId: string) =>
      eventually(
        () => t.call<Op>('GET', `/api/v1/operations/${opId}`).then((r) => r.body),
        (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
        120_000,
        `operation ${opId} finished`,
      );
    const name = `real-limit-${suffix}`;
    const spec = eventsSpec(name, topic, `it-real-limit-out-${suffix}`, '500 milliseconds');
    const created = await t.call<{ id: string; operation: { id: string } }>('POST', '/api/v1/queries', spec);
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await opDone(created.body.operation.id)).state).toBe('SUCCEEDED');
    // At once, as `sluice queries deploy --wait && sluice queries rate-limit` does: the engine's
    // control consumer may still be joining its group.
    const limited = await t.call<{ id: string }>('POST', `/api/v1/queries/${id}/rate-limit`, {
      maxOffsetsPerTrigger: 7,
    });
    expect(limited.status).toBe(202);
    const op = await opDone(limited.body.id);
    expect(op.state).toBe('SUCCEEDED');
    expect(op.steps.map((s) => [s.name, s.state])).toEqual([
      ['record rate limit', 'done'],
      ['send setRateLimit command', 'done'],
      ['wait for acknowledgement', 'done'],
    ]);
    expect(op.steps[2]?.message).toMatch(/^1\/1 instance\(s\) acknowledged \(\d+ command\(s\) sent\)$/);
    // What the engine itself reports applying.
    const reported = await eventually(
      () =>
        t
          .call<{ lastProgress: { sluice?: { rateLimit?: number | null } } | null }>(
            'GET',
            `/api/v1/queries/${id}`,
          )
          .then((r) => r.body.lastProgress?.sluice?.rateLimit),
      (limit) => limit === 7,
      30_000,
      'the engine reports the rate limit',
    );
    expect(reported).toBe(7);

    const stop = await t.call<{ id: string }>('POST', `/api/v1/queries/${id}/stop`);
    expect(stop.status).toBe(202);
    expect((await opDone(stop.body.id)).state).toBe('SUCCEEDED');
    // Nothing runs: nothing to wait for, the limit applies at the next start.
    const idle = await t.call<{ id: string }>('POST', `/api/v1/queries/${id}/rate-limit`, {
      maxOffsetsPerTrigger: null,
    });
    expect(idle.status).toBe(202);
    const idleOp = await opDone(idle.body.id);
    expect(idleOp.state, JSON.stringify(idleOp)).toBe('SUCCEEDED');
    expect(idleOp.steps.at(-1)?.message, JSON.stringify(idleOp)).toBe(
      'no instance runs: the limit applies at the next start',
    );
  }, 240_000);
});
