// GET /api/v1/live/queries against the real PostgreSQL, Kafka and alert evaluator: every query's
// running instances, rates (newest event per instance, summed), lag and firing alerts in one
// answer, a page at a time, readable by a viewer, bad paging refused with the field named.
// Engines are the stand-in (they never commit offsets, so the lag is every record produced).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics, parseBrokers } from '@sluice/kafka';
import { alertingEnv } from './support/loopback-receiver';
import {
  createToken,
  eventsSpec,
  eventually,
  forgetTestQueries,
  killTestInstances,
  operationOutcome,
  STAND_IN_ENGINE,
  startTestApp,
  type TestApp,
} from './support/test-app';

interface Figures {
  id: string;
  runningInstances: number;
  inputRowsPerSecond: number | null;
  processedRowsPerSecond: number | null;
  progressAt: string | null;
  lagRecords: number | null;
  lagSeconds: number | null;
  lagReadAt: string | null;
  firingAlerts: number;
}
interface Page {
  items: Figures[];
  next: string | null;
}

const suffix = randomUUID().slice(0, 8);
const cluster = `it-live-${suffix}`;
const topic = `it-live-src-${suffix}`;
const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:59092');
let t: TestApp;
let viewer = '';
const ids: string[] = [];

/** Every page, following `next`, as the caller sees it. */
async function allPages(limit: number, as?: string): Promise<{ pages: number; items: Figures[] }> {
  const items: Figures[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const r: { status: number; body: Page } = await t.call<Page>(
      'GET',
      `/api/v1/live/queries?limit=${limit}${after ? `&after=${after}` : ''}`,
      undefined,
      as,
    );
    expect(r.status).toBe(200);
    items.push(...r.body.items);
    after = r.body.next;
    pages++;
  } while (after && pages < 100);
  return { pages, items };
}

beforeAll(async () => {
  const kafka = createKafka({ brokers, clientId: 'it-live' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i) })) });
  await producer.disconnect();
  t = await startTestApp(
    alertingEnv(cluster, suffix, {
      SLUICE_ENGINE_COMMAND: JSON.stringify([process.execPath, STAND_IN_ENGINE]),
      SLUICE_ALERT_EVAL_INTERVAL_MS: '1000',
    }),
  );
  viewer = createToken('viewer', `it-live-viewer-${suffix}`);
  // A rule of this test's cluster only: 10 records behind (the stand-in commits nothing) fire it.
  const rule = await t.call('POST', '/api/v1/alert-rules', {
    name: `ItLiveRecords_${suffix}`,
    kind: 'recordsLag',
    params: { thresholdRecords: 5 },
    forSeconds: 0,
    severity: 'warning',
    annotations: { summary: '{{ $labels.query }} behind' },
    queries: [`live-a-${suffix}`],
    cluster,
  });
  expect(rule.status).toBe(201);
  for (const [name, deploy] of [
    [`live-a-${suffix}`, true],
    [`live-b-${suffix}`, false],
    [`live-c-${suffix}`, false],
  ] as const) {
    const r = await t.call<{ id: string; operation?: { id: string } }>(
      'POST',
      `/api/v1/queries?deploy=${deploy}`,
      eventsSpec(name, topic, `it-live-out-${suffix}`),
    );
    expect(r.status).toBe(201);
    ids.push(r.body.id);
    // The deploy runs as an operation: until it has succeeded the instance may not read RUNNING
    // yet, while the lag and the alert (which need no instance) already show.
    if (deploy) expect((await operationOutcome(t, r.body.operation!.id, 60_000)).state).toBe('SUCCEEDED');
  }
}, 120_000);

afterAll(async () => {
  if (t && ids[0]) await t.call('POST', `/api/v1/queries/${ids[0]}/stop`).catch(() => undefined);
  await t?.close();
  if (t) killTestInstances(t.home);
  await forgetTestQueries(suffix);
  const { Pool } = await import('pg');
  const pool = new Pool({ connectionString: process.env.DATABASE_URL });
  try {
    await pool.query(`DELETE FROM "AlertRule" WHERE name = $1`, [`ItLiveRecords_${suffix}`]);
  } finally {
    await pool.end();
  }
});

describe('GET /api/v1/live/queries', () => {
  it("carries each query's instances, summed rates, lag and firing alerts", async () => {
    const [a, b] = ids as [string, string];
    // Progress of two instances of query a through the real ingest path (Kafka → PostgreSQL).
    const fixture = JSON.parse(
      fs.readFileSync(
        path.resolve(__dirname, '../../../libs/contracts/test/fixtures/spark-progress-kafka.json'),
        'utf8',
      ),
    ) as Record<string, unknown>;
    const now = Date.now();
    const event = (instance: string, batchId: number, atMs: number, rate: number) => ({
      ...fixture,
      id: a,
      batchId,
      timestamp: new Date(atMs).toISOString(),
      inputRowsPerSecond: rate,
      processedRowsPerSecond: rate * 2,
      sluice: { queryVersion: 1, instance, instances: 2, rateLimit: null, invalidRows: 0 },
    });
    const kafka = createKafka({ brokers, clientId: 'it-live-progress' });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'sluice.progress',
      messages: [
        event(`live-a-${suffix}-0`, 1, now - 3000, 7), // superseded by batch 3 of the same instance
        event(`live-a-${suffix}-1`, 2, now - 2000, 5),
        event(`live-a-${suffix}-0`, 3, now - 1000, 11),
      ].map((e) => ({ key: a, value: JSON.stringify(e) })),
    });
    await producer.disconnect();

    const figures = await eventually(
      () => allPages(500).then((p) => p.items),
      (items) => {
        const fa = items.find((i) => i.id === a);
        return fa?.inputRowsPerSecond === 16 && fa.lagRecords === 10 && fa.firingAlerts === 1;
      },
      90_000,
      'rates, lag and the firing alert of query a',
    );
    const fa = figures.find((i) => i.id === a)!;
    expect(fa).toMatchObject({
      runningInstances: 1,
      inputRowsPerSecond: 16,
      processedRowsPerSecond: 32,
      progressAt: new Date(now - 1000).toISOString(),
      lagRecords: 10,
      firingAlerts: 1,
    });
    expect(Date.parse(fa.lagReadAt!)).toBeGreaterThan(now - 60_000);
    // Registered, never deployed: no instance, no progress, no lag read.
    expect(figures.find((i) => i.id === b)).toEqual({
      id: b,
      runningInstances: 0,
      inputRowsPerSecond: null,
      processedRowsPerSecond: null,
      progressAt: null,
      lagRecords: null,
      lagSeconds: null,
      lagReadAt: null,
      firingAlerts: 0,
    });
  }, 120_000);

  it('pages by id: every query once, in id order, the last page with next null', async () => {
    const whole = await allPages(1000);
    expect(whole.pages).toBe(1);
    const byOne = await allPages(1, viewer); // a viewer may read it
    expect(byOne.pages).toBe(whole.items.length + 1); // the last page is empty: next was the last id
    const idsByOne = byOne.items.map((i) => i.id);
    expect(idsByOne).toEqual(whole.items.map((i) => i.id));
    expect(idsByOne).toEqual([...idsByOne].sort());
    for (const id of ids) expect(idsByOne).toContain(id);
  }, 60_000);

  it('refuses a bad limit or cursor with 400 naming the field, and no token with 401', async () => {
    for (const [qs, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['after=not-a-uuid', 'after'],
    ] as const) {
      const r = await t.call<{ message: string; errors?: Array<{ path: string }> }>(
        'GET',
        `/api/v1/live/queries?${qs}`,
      );
      expect(r.status, qs).toBe(400);
      expect(JSON.stringify(r.body), qs).toContain(field);
    }
    const anonymous = await fetch(`${t.base}/api/v1/live/queries`);
    expect(anonymous.status).toBe(401);
  });
});
