// The engine end to end on the real broker and PostgreSQL: exactly-once output with dead
// letters and progress, recovery after SIGKILL, scale-out across instances, control commands,
// the validate CLI and refusal of a damaged checkpoint.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_TOPIC, dlqTopic, repartitionTopic } from '@sluice/contracts';
import { ensureTopics } from '@sluice/kafka';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store';
import { FileBlobStore } from '../src/checkpoint/file-blob-store';
import {
  eventually,
  progressOf,
  readAll,
  runEngineCli,
  startEngine,
  tempDir,
  testKafka,
  writeSpec,
  type EngineProcess,
} from './support/engine-harness';

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let pool: Pool;
const engines: EngineProcess[] = [];

beforeAll(async () => {
  kafka = testKafka('engine-int');
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  pool = new Pool({ connectionString: process.env.DATABASE_URL });
});

afterAll(async () => {
  for (const e of engines) if (e.child.exitCode === null) e.child.kill('SIGKILL');
  await producer.disconnect();
  await admin.disconnect();
  await pool.end();
});

function launch(o: Parameters<typeof startEngine>[0]): EngineProcess {
  const e = startEngine(o);
  engines.push(e);
  return e;
}

const click = (id: number, users = 10) => ({
  id,
  user_id: `u${id % users}`,
  url: id % 3 === 0 ? `/product/${id % 7}` : '/home',
  bytes: id % 100,
  ts: new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + id * 150).toISOString(),
});

async function produceClicks(topic: string, from: number, to: number): Promise<void> {
  const messages = [];
  for (let id = from; id < to; id++) messages.push({ key: String(id), value: JSON.stringify(click(id)) });
  for (let i = 0; i < messages.length; i += 500)
    await producer.send({ topic, messages: messages.slice(i, i + 500) });
}

const schema = '{ id: long, user_id: string, url: string, bytes: long, ts: timestamp }';

/** A spec over the clicks schema; `rest` is everything after the source (sql, sink, …). */
function clickSpec(name: string, topic: string, rest: string, fromEarliest = true): string {
  return `name: ${name}
sources:
  clicks:
    kafka: { topic: ${topic}${fromEarliest ? ', startingOffsets: earliest' : ''} }
    format: json
    schema: ${schema}
${rest}`;
}

describe('engine', () => {
  it('runs a stateless query exactly once, dead-letters bad records and reports Spark-shaped progress', async () => {
    const input = `it-in-${randomUUID()}`;
    const output = `it-out-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 4 }]);
    await produceClicks(input, 0, 300);
    await producer.send({
      topic: input,
      messages: [
        { value: 'not json' },
        { value: '{"id":"abc","user_id":"x","url":"/","bytes":1,"ts":"2026-01-01T00:00:00Z"}' },
        { value: null },
        { value: '[1,2]' },
      ],
    });
    const dir = tempDir('stateless');
    const spec = writeSpec(
      dir,
      clickSpec(
        'it-stateless',
        input,
        `sql: |
  SELECT id, upper(user_id) AS user_upper, bytes * 2 AS double_bytes FROM clicks WHERE url LIKE '/product/%'
sink:
  kafka: { topic: ${output} }
outputMode: append
trigger: { processingTime: 200 milliseconds }
`,
      ),
    );
    const progress = await progressOf(kafka, admin, queryId);
    const engine = launch({ spec, checkpoint: path.join(dir, 'checkpoint'), queryId, instance: 'a' });
    const rows = (await readAll(kafka, output, 100)).map(
      (r) => JSON.parse(r.value) as { id: number; user_upper: string; double_bytes: number },
    );
    expect(rows).toHaveLength(100);
    expect(new Set(rows.map((r) => r.id)).size).toBe(100);
    const r3 = rows.find((r) => r.id === 3);
    expect(r3).toEqual({ id: 3, user_upper: 'U3', double_bytes: 6 });

    const dead = (await readAll(kafka, dlqTopic(queryId), 4)).map(
      (r) => JSON.parse(r.value) as { reason: string; source: { topic: string; offset: number } },
    );
    expect(dead).toHaveLength(4);
    expect(dead.every((d) => d.source.topic === input && d.reason.length > 0)).toBe(true);

    await eventually(
      async () => progress.events.reduce((n, e) => n + e.numInputRows, 0) >= 304,
      30_000,
      'progress for every input row',
    );
    const events = progress.events;
    expect(events.reduce((n, e) => n + e.numInputRows, 0)).toBe(304);
    expect(events.reduce((n, e) => n + (e.sluice?.invalidRows ?? 0), 0)).toBe(4);
    const withData = events.find((e) => e.numInputRows > 0)!;
    expect(withData.sources[0]?.description).toBe(`KafkaV2[Subscribe[${input}]]`);
    expect(Object.keys(withData.durationMs ?? {})).toEqual(
      [...Object.keys(withData.durationMs ?? {})].sort(),
    );
    expect(withData.sources[0]?.metrics?.maxOffsetsBehindLatest).toMatch(/^\d+$/);
    await progress.stop();

    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
  }, 120_000);

  it('keeps a windowed aggregation in PostgreSQL exact across a SIGKILL and restart', async () => {
    const input = `it-in-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    const table = `it_agg_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 3 }]);
    const total = 3000;
    await produceClicks(input, 0, total);
    const dir = tempDir('agg');
    const spec = writeSpec(
      dir,
      clickSpec(
        'it-agg',
        input,
        `sql: |
  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(bytes) AS bytes
  FROM clicks
  GROUP BY window(ts, '1 minute'), user_id
sink:
  postgres: { table: ${table}, key: [window_start, user_id] }
outputMode: update
trigger: { processingTime: 100 milliseconds }
options: { maxOffsetsPerTrigger: 150, numShufflePartitions: 4 }
`,
      ),
    );
    const checkpoint = path.join(dir, 'checkpoint');
    const first = launch({ spec, checkpoint, queryId, instance: 'a' });
    await eventually(
      async () => {
        const r = await pool
          .query<{ n: string }>(`SELECT coalesce(sum(clicks), 0) AS n FROM ${table}`)
          .catch(() => undefined);
        return r && Number(r.rows[0]!.n) > 300;
      },
      60_000,
      'first aggregates',
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const second = launch({ spec, checkpoint, queryId, instance: 'a' });
    await eventually(
      async () => {
        const r = await pool.query<{ n: string }>(`SELECT coalesce(sum(clicks), 0) AS n FROM ${table}`);
        return Number(r.rows[0]!.n) >= total;
      },
      90_000,
      'all clicks aggregated',
    );
    await new Promise((r) => setTimeout(r, 1500));

    const expected = new Map<string, { clicks: number; bytes: number }>();
    for (let id = 0; id < total; id++) {
      const c = click(id);
      const ms = Date.parse(c.ts);
      const key = `${new Date(ms - (ms % 60_000)).toISOString()}|${c.user_id}`;
      const e = expected.get(key) ?? { clicks: 0, bytes: 0 };
      e.clicks++;
      e.bytes += c.bytes;
      expected.set(key, e);
    }
    const got = await pool.query<{ window_start: Date; user_id: string; clicks: string; bytes: string }>(
      `SELECT * FROM ${table}`,
    );
    expect(got.rows).toHaveLength(expected.size);
    for (const row of got.rows) {
      expect({ clicks: Number(row.clicks), bytes: Number(row.bytes) }).toEqual(
        expected.get(`${row.window_start.toISOString()}|${row.user_id}`),
      );
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);

  it('stateStore lmdb: exact across a SIGKILL and restart, then a switch to memory on the same checkpoint', async () => {
    const input = `it-in-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    const table = `it_lmdb_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 3 }]);
    const half = 1500;
    const total = 3000;
    await produceClicks(input, 0, half);
    const dir = tempDir('lmdb');
    const specOf = (stateStore: string) =>
      writeSpec(
        dir,
        clickSpec(
          'it-lmdb',
          input,
          `sql: |
  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(bytes) AS bytes
  FROM clicks
  GROUP BY window(ts, '1 minute'), user_id
sink:
  postgres: { table: ${table}, key: [window_start, user_id] }
outputMode: update
trigger: { processingTime: 100 milliseconds }
options: { maxOffsetsPerTrigger: 150, numShufflePartitions: 2, stateStore: ${stateStore} }
`,
        ),
      );
    const checkpoint = path.join(dir, 'checkpoint');
    const workDir = path.join(dir, 'work');
    const clicksIn = async (): Promise<number> => {
      const r = await pool
        .query<{ n: string }>(`SELECT coalesce(sum(clicks), 0) AS n FROM ${table}`)
        .catch(() => undefined);
      return r ? Number(r.rows[0]!.n) : 0;
    };
    const lmdb = specOf('lmdb');
    const first = launch({ spec: lmdb, checkpoint, queryId, instance: 'a', workDir });
    await eventually(async () => (await clicksIn()) > 300, 60_000, 'first aggregates');
    first.child.kill('SIGKILL');
    await first.exited;
    // The LMDB environments are in the working folder, not in the checkpoint.
    expect(fs.readdirSync(path.join(workDir, 'epoch-0', 'state')).sort()).toEqual(['shuffle.0', 'shuffle.1']);
    expect(fs.readdirSync(path.join(workDir, 'epoch-0', 'state', 'shuffle.0'))).toEqual(['aggregate']);
    const second = launch({ spec: lmdb, checkpoint, queryId, instance: 'a', workDir });
    await eventually(async () => (await clicksIn()) >= half, 90_000, 'the first half aggregated');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // An upgrade that switches the provider: the same checkpoint restored into memory.
    await produceClicks(input, half, total);
    const third = launch({ spec: specOf('memory'), checkpoint, queryId, instance: 'a', workDir });
    await eventually(async () => (await clicksIn()) >= total, 90_000, 'all clicks aggregated');
    await new Promise((r) => setTimeout(r, 1500));

    const expected = new Map<string, { clicks: number; bytes: number }>();
    for (let id = 0; id < total; id++) {
      const c = click(id);
      const ms = Date.parse(c.ts);
      const key = `${new Date(ms - (ms % 60_000)).toISOString()}|${c.user_id}`;
      const e = expected.get(key) ?? { clicks: 0, bytes: 0 };
      e.clicks++;
      e.bytes += c.bytes;
      expected.set(key, e);
    }
    const got = await pool.query<{ window_start: Date; user_id: string; clicks: string; bytes: string }>(
      `SELECT * FROM ${table}`,
    );
    expect(got.rows).toHaveLength(expected.size);
    for (const row of got.rows)
      expect({ clicks: Number(row.clicks), bytes: Number(row.bytes) }).toEqual(
        expected.get(`${row.window_start.toISOString()}|${row.user_id}`),
      );
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 300_000);

  it('shares partitions between instances and loses or duplicates nothing when one joins and one drains', async () => {
    const input = `it-in-${randomUUID()}`;
    const output = `it-out-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 4 }]);
    const dir = tempDir('scale');
    const spec = writeSpec(
      dir,
      clickSpec(
        'it-scale',
        input,
        `sql: SELECT id, user_id FROM clicks
sink:
  kafka: { topic: ${output} }
outputMode: append
trigger: { processingTime: 100 milliseconds }
options: { maxOffsetsPerTrigger: 100 }
`,
      ),
    );
    const checkpoint = path.join(dir, 'checkpoint');
    const progress = await progressOf(kafka, admin, queryId);
    // A steady trickle of input for the whole scenario, so every membership change happens
    // while data flows.
    let produced = 0;
    let producing = true;
    const trickle = (async () => {
      while (producing) {
        await produceClicks(input, produced, produced + 50);
        produced += 50;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const a = launch({ spec, checkpoint, queryId, instance: 'a' });
    await eventually(
      async () => progress.events.some((e) => e.sluice?.instance === 'a' && e.numInputRows > 0),
      60_000,
      'instance a progress',
    );
    const b = launch({ spec, checkpoint, queryId, instance: 'b' });
    await eventually(
      async () => progress.events.some((e) => e.sluice?.instance === 'b' && e.numInputRows > 0),
      60_000,
      'instance b progress',
    );
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const afterDrain = produced;
    await eventually(async () => produced >= afterDrain + 500, 30_000, 'more input after the drain');
    producing = false;
    await trickle;
    const rows = (await readAll(kafka, output, produced, 90_000)).map(
      (r) => (JSON.parse(r.value) as { id: number }).id,
    );
    expect(rows).toHaveLength(produced);
    expect(new Set(rows).size).toBe(produced);
    await progress.stop();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 240_000);

  it('applies setRateLimit from the next batch, acknowledges it, and drains on command', async () => {
    const input = `it-in-${randomUUID()}`;
    const output = `it-out-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(admin, [
      { topic: input, numPartitions: 2 },
      { topic: CONTROL_TOPIC, numPartitions: 1 },
    ]);
    const dir = tempDir('control');
    const spec = writeSpec(
      dir,
      clickSpec(
        'it-control',
        input,
        `sql: SELECT id FROM clicks
sink:
  kafka: { topic: ${output} }
outputMode: append
trigger: { processingTime: 300 milliseconds }
options: { maxOffsetsPerTrigger: 1000 }
`,
      ),
    );
    const progress = await progressOf(kafka, admin, queryId);
    const engine = launch({ spec, checkpoint: path.join(dir, 'checkpoint'), queryId, instance: 'a' });
    await eventually(async () => progress.events.length > 0, 60_000, 'first progress');
    const commandId = randomUUID();
    await producer.send({
      topic: CONTROL_TOPIC,
      messages: [
        {
          key: queryId,
          value: JSON.stringify({ type: 'setRateLimit', commandId, queryId, maxOffsetsPerTrigger: 40 }),
        },
      ],
    });
    const acked = await eventually(
      async () => progress.events.find((e) => e.sluice?.ackedCommands?.includes(commandId)),
      30_000,
      'ack',
    );
    expect(acked.sluice?.rateLimit).toBe(40);
    const ackIndex = progress.events.indexOf(acked);
    await produceClicks(input, 0, 400);
    await eventually(
      async () => progress.events.slice(ackIndex + 1).filter((e) => e.numInputRows > 0).length >= 3,
      60_000,
      'limited batches',
    );
    const limited = progress.events.slice(ackIndex + 1).filter((e) => e.numInputRows > 0);
    expect(Math.max(...limited.map((e) => e.numInputRows))).toBeLessThanOrEqual(40);
    // The engine's work between two triggers: unknown before its first, measured on every later one
    // (the limited batches follow each other, each after the previous one's progress report).
    expect(progress.events[0]?.sluice?.outsideTriggerMs).toBeUndefined();
    for (const e of limited) {
      expect(Number.isInteger(e.sluice?.outsideTriggerMs)).toBe(true);
      expect(e.sluice?.outsideTriggerMs).toBeGreaterThanOrEqual(0);
      // The round since the previous trigger's execution: its wall time holds this trigger's
      // execution and the work outside it; its CPU is the process's, measured, never negative.
      expect(Number.isInteger(e.sluice?.roundCpuMs)).toBe(true);
      expect(e.sluice?.roundCpuMs).toBeGreaterThanOrEqual(0);
      expect(e.sluice?.roundWallMs).toBeGreaterThanOrEqual(
        (e.durationMs?.triggerExecution ?? 0) + (e.sluice?.outsideTriggerMs ?? 0),
      );
    }
    expect(progress.events[0]?.sluice?.roundCpuMs).toBeUndefined();
    // Each report counts the process's batches with rows so far: one more per batch with rows.
    const withRows = progress.events.filter((e) => e.numInputRows > 0);
    expect(withRows.map((e) => e.sluice?.processRowBatches)).toEqual(withRows.map((_, k) => k + 1));

    await producer.send({
      topic: CONTROL_TOPIC,
      messages: [
        { key: queryId, value: JSON.stringify({ type: 'drain', commandId: randomUUID(), queryId }) },
      ],
    });
    expect(await engine.exited).toBe(0);
    expect(engine.output()).toContain('drain command');
    await progress.stop();
  }, 150_000);

  it("reports the offsets its trigger listed as latestOffset, as Spark's Kafka source does, while input keeps arriving", async () => {
    const input = `it-in-${randomUUID()}`;
    const output = `it-out-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
    const dir = tempDir('latest');
    const spec = writeSpec(
      dir,
      clickSpec(
        'it-latest',
        input,
        `sql: SELECT id FROM clicks
sink:
  kafka: { topic: ${output} }
outputMode: append
trigger: { processingTime: 100 milliseconds }
`,
      ),
    );
    const progress = await progressOf(kafka, admin, queryId);
    const engine = launch({ spec, checkpoint: path.join(dir, 'checkpoint'), queryId, instance: 'a' });
    // Records arrive all the time, during batches too: a listing made after a batch committed
    // would usually be past the batch's end.
    let next = 0;
    let producing = true;
    const feeding = (async () => {
      while (producing) {
        await produceClicks(input, next, next + 5);
        next += 5;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const withData = () => progress.events.filter((e) => e.numInputRows > 0);
    await eventually(async () => withData().length >= 10, 60_000, 'ten batches with rows');
    producing = false;
    await feeding;
    // No rate limit: each batch read everything its trigger listed, so it ends where it reports
    // the source's latest (the old second listing, after the commit, reported later offsets).
    for (const e of withData().slice(0, 10)) {
      const source = e.sources[0]!;
      expect(source.latestOffset).toEqual(source.endOffset);
      expect(source.metrics?.maxOffsetsBehindLatest).toBe('0');
    }
    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
    await progress.stop();
  }, 120_000);

  it('append mode emits each window once after the watermark passes it, drops late rows, on a PostgreSQL checkpoint', async () => {
    const input = `it-in-${randomUUID()}`;
    const output = `it-out-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 1 }]);
    const dir = tempDir('append');
    const spec = writeSpec(
      dir,
      `name: it-append
sources:
  clicks:
    kafka: { topic: ${input}, startingOffsets: earliest }
    format: json
    schema: { user_id: string, ts: timestamp }
    watermark: { column: ts, delay: 5 seconds }
sql: |
  SELECT window.start AS window_start, window.end AS window_end, user_id, count(*) AS clicks
  FROM clicks GROUP BY window(ts, '10 seconds'), user_id
sink:
  kafka: { topic: ${output} }
outputMode: append
trigger: { processingTime: 100 milliseconds }
options: { numShufflePartitions: 1 }
`,
    );
    const at = (s: number) => ({
      value: JSON.stringify({ user_id: 'u', ts: new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString() }),
    });
    const progress = await progressOf(kafka, admin, queryId);
    const engine = launch({ spec, checkpoint: process.env.DATABASE_URL!, queryId, instance: 'a' });
    const phase = async (messages: Array<{ value: string }>) => {
      const before = progress.events.reduce((n, e) => n + e.numInputRows, 0);
      await producer.send({ topic: input, messages });
      await eventually(
        async () => progress.events.reduce((n, e) => n + e.numInputRows, 0) >= before + messages.length,
        60_000,
        'batch processed',
      );
    };
    await phase(Array.from({ length: 10 }, (_, i) => at(i))); // window [0,10)
    await phase([at(12)]); // watermark 7 s: [0,10) still open
    await phase([at(20)]); // watermark 15 s: [0,10) closes
    await phase([at(3)]); // late: 3 s < watermark 15 s → dropped
    await phase([at(40)]); // watermark 35 s: [10,20) and [20,30) close
    const rows = (await readAll(kafka, output, 3)).map(
      (r) => JSON.parse(r.value) as { window_start: string; clicks: number },
    );
    expect(rows.map((r) => [r.window_start.slice(11, 19), r.clicks]).sort()).toEqual([
      ['00:00:00', 10],
      ['00:00:10', 1],
      ['00:00:20', 1],
    ]);
    const dropped = progress.events.reduce(
      (n, e) => n + (e.stateOperators?.[0]?.numRowsDroppedByWatermark ?? 0),
      0,
    );
    expect(dropped).toBe(1);
    expect(progress.events.some((e) => e.eventTime?.watermark === '2026-01-01T00:00:35.000Z')).toBe(true);
    await progress.stop();
    engine.child.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
  }, 150_000);

  it('writes batch repartition records on a new checkpoint, one-row records on one created before batching', async () => {
    const input = `it-in-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
    await produceClicks(input, 0, 100);
    /** Runs a windowed count to the end of the input; returns its repartition records. */
    const run = async (legacyCheckpoint: boolean) => {
      const queryId = `it-${randomUUID()}`;
      const dir = tempDir('repartition-format');
      const checkpointDir = path.join(dir, 'checkpoint');
      if (legacyCheckpoint) {
        // The metadata an engine before batching wrote: no repartitionFormat.
        fs.mkdirSync(checkpointDir, { recursive: true });
        await new CheckpointStore(new FileBlobStore(checkpointDir), checkpointDir).initMetadata({
          queryId,
          created: new Date().toISOString(),
          planHash: 'before-batching',
          numShufflePartitions: 2,
        });
      }
      const spec = writeSpec(
        dir,
        clickSpec(
          'it-repartition-format',
          input,
          `sql: SELECT user_id, count(*) AS clicks FROM clicks GROUP BY user_id
sink:
  console: {}
outputMode: complete
trigger: { availableNow: true }
options: { numShufflePartitions: 2 }
`,
        ),
      );
      const engine = launch({ spec, checkpoint: checkpointDir, queryId, instance: 'a' });
      expect(await engine.exited).toBe(0);
      return readAll(kafka, repartitionTopic(queryId), legacyCheckpoint ? 100 : 1);
    };
    const rowsOf = (value: string): Array<{ k: string; o: unknown[] }> =>
      value.startsWith('\u0000') ? JSON.parse(value.slice(1)) : [JSON.parse(value)];

    const batched = await run(false);
    expect(batched.every((r) => r.value.startsWith('\u0000') && r.key === String(r.partition))).toBe(true);
    expect(batched.flatMap((r) => rowsOf(r.value))).toHaveLength(100);
    expect(batched.length).toBeLessThan(100);

    const legacy = await run(true);
    expect(legacy).toHaveLength(100);
    expect(legacy.every((r) => r.value.startsWith('{'))).toBe(true);
    // Same rows either way, each with its origin.
    const origins = (records: typeof legacy) =>
      records.flatMap((r) => rowsOf(r.value).map((row) => JSON.stringify(row.o))).sort();
    expect(origins(batched)).toEqual(origins(legacy));
  }, 150_000);

  it('complete mode writes every group every batch to the console sink', async () => {
    const input = `it-in-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 2 }]);
    await produceClicks(input, 0, 100);
    const dir = tempDir('complete');
    const spec = writeSpec(
      dir,
      clickSpec(
        'it-complete',
        input,
        `sql: SELECT user_id, count(*) AS clicks FROM clicks GROUP BY user_id
sink:
  console: {}
outputMode: complete
trigger: { availableNow: true }
options: { numShufflePartitions: 2 }
`,
      ),
    );
    const engine = launch({ spec, checkpoint: path.join(dir, 'checkpoint'), queryId, instance: 'a' });
    expect(await engine.exited).toBe(0);
    const lines = engine
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && !l.includes('"level"'));
    const last = new Map<string, number>();
    for (const l of lines) {
      const row = JSON.parse(l) as { user_id: string; clicks: number };
      last.set(row.user_id, row.clicks);
    }
    // The engine's log names what it ran when the rows are missing (group assignments, triggers).
    expect(last.size, engine.output().slice(-4000)).toBe(10);
    expect([...last.values()].every((n) => n === 10)).toBe(true);
  }, 120_000);

  it('validate prints the plan or FILE:LINE:COL errors', async () => {
    const dir = tempDir('validate');
    const good = writeSpec(
      dir,
      clickSpec(
        'ok',
        'clicks',
        `sql: SELECT id FROM clicks
sink:
  console: {}
`,
        false,
      ),
    );
    const ok = runEngineCli(['validate', '--spec', good]);
    expect(await ok.exited).toBe(0);
    expect(JSON.parse(ok.output().slice(ok.output().indexOf('{'))).name).toBe('ok');

    const bad = writeSpec(
      dir,
      clickSpec(
        'bad',
        'clicks',
        `sql: SELECT nope FROM clicks
sink:
  console: {}
`,
        false,
      ),
    );
    const err = runEngineCli(['validate', '--spec', bad]);
    expect(await err.exited).toBe(1);
    expect(err.output()).toMatch(new RegExp(`${bad.replaceAll('.', '\\.')}:7:\\d+ .*nope`));
  }, 60_000);

  it('stops with an error naming a damaged checkpoint file instead of reprocessing', async () => {
    const input = `it-in-${randomUUID()}`;
    const output = `it-out-${randomUUID()}`;
    const queryId = `it-${randomUUID()}`;
    await ensureTopics(admin, [{ topic: input, numPartitions: 1 }]);
    await produceClicks(input, 0, 50);
    const dir = tempDir('corrupt');
    const spec = writeSpec(
      dir,
      clickSpec(
        'it-corrupt',
        input,
        `sql: SELECT id FROM clicks
sink:
  kafka: { topic: ${output} }
trigger: { availableNow: true }
`,
      ),
    );
    const checkpoint = path.join(dir, 'checkpoint');
    const first = launch({ spec, checkpoint, queryId, instance: 'a' });
    expect(await first.exited).toBe(0);
    expect(await readAll(kafka, output, 50)).toHaveLength(50);
    const offsetsDir = path.join(checkpoint, 'tasks', `src.${input}.0`, 'offsets');
    const file = path.join(offsetsDir, fs.readdirSync(offsetsDir).sort().at(-1)!);
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 10));
    const second = launch({ spec, checkpoint, queryId, instance: 'a' });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(file);
  }, 120_000);
});
