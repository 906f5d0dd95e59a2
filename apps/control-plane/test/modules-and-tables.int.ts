// Queries that need more than their spec's SQL, deployed through the API on the real stack (real
// engines under the local runtime, Kafka, PostgreSQL): a stateful function whose TypeScript code
// travels inline in the spec (admins only; a module that cannot run is a 422 at create time), and a
// stream–static join whose table is read through a registered connection the control plane passes
// to the engine (an unknown connection is a 422; one in use cannot be deleted). Each reaches RUNNING and writes the expected rows.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, parseBrokers } from '@sluice/kafka';
import { killEngines } from './support/control-plane-process';
import { createEventsTopic } from './support/events-topic';
import { REDIS_INDEXES } from './support/redis-indexes';
import { eventually, startTestApp, type TestApp } from './support/test-app';
import { isolatedStack, type IsolatedStack } from './upgrade-support';

const suffix = randomUUID().slice(0, 8);
const kafka = createKafka({ brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''), clientId: 'it-modules' });
let stack: IsolatedStack;
let t: TestApp;
let admin: string;
let operator: string;
let sinkDb: Pool;
const table = `it_users_${suffix}`;

interface SpecError {
  path: string;
  message: string;
}

beforeAll(async () => {
  stack = await isolatedStack('sluice_it_modules', REDIS_INDEXES.modulesAndTables);
  admin = stack.token('admin', `modules-admin-${suffix}`);
  operator = stack.token('operator', `modules-operator-${suffix}`);
  t = await startTestApp(stack.env);
  // The join's table lives where the built-in `default` connection points (the sink database).
  sinkDb = new Pool({ connectionString: process.env.SLUICE_SINK_DATABASE_URL });
  await sinkDb.query(`CREATE TABLE ${table} (id text, tier text)`);
  await sinkDb.query(`INSERT INTO ${table} VALUES ('u0', 'gold'), ('u1', 'silver')`);
}, 120_000);

afterAll(async () => {
  await t?.close();
  if (t) killEngines(t.home);
  await sinkDb?.query(`DROP TABLE IF EXISTS ${table}`);
  await sinkDb?.end();
  await stack?.drop();
});

/** Every record value of `topic` (read committed), once `enough` holds for them. */
async function readTopic<T>(topic: string, enough: (rows: T[]) => boolean): Promise<T[]> {
  const rows: T[] = [];
  const consumer = kafka.consumer({ groupId: `it-modules-read-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        rows.push(JSON.parse(message.value!.toString()) as T);
      },
    });
    await eventually(async () => rows, enough, 120_000, `the expected rows on ${topic}`);
    return rows;
  } finally {
    await consumer.disconnect();
  }
}

async function running(id: string): Promise<void> {
  await eventually(
    () => t.call<{ phase: string }>('GET', `/api/v1/queries/${id}`, undefined, admin).then((r) => r.body),
    (q) => q.phase === 'RUNNING',
    120_000,
    `query ${id} RUNNING`,
  );
}

// A running count of rows per user, kept in the function's state: TypeScript (types, an
// interface), which the engine bundle (plain Node) can only run compiled.
const COUNT_SOURCE = [
  'interface Count { n: number }',
  'interface State { get(): Count | undefined; update(value: Count): void }',
  'export function countRows(key: unknown[], rows: unknown[], state: State): Array<Record<string, unknown>> {',
  '  const n: number = (state.get()?.n ?? 0) + rows.length;',
  '  state.update({ n });',
  '  return [{ user_id: key[0], n }];',
  '}',
];

function statefulSpec(name: string, topic: string, out: string, source?: string[]): string {
  return [
    `name: ${name}`,
    'sources:',
    '  events:',
    `    kafka: { topic: ${topic}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { user_id: string, amount: long }',
    'sql: SELECT user_id, amount FROM events',
    'stateful:',
    '  module: ./count.ts',
    '  export: countRows',
    '  key: [user_id]',
    '  stateSchema: { n: long }',
    '  output: { user_id: string, n: long }',
    ...(source ? ['  source: |', ...source.map((l) => `    ${l}`)] : []),
    'sink:',
    `  kafka: { topic: ${out} }`,
    'outputMode: update',
    'trigger: { processingTime: 500 milliseconds }',
    '',
  ].join('\n');
}

function joinSpec(name: string, topic: string, out: string, connection?: string): string {
  return [
    `name: ${name}`,
    'sources:',
    '  events:',
    `    kafka: { topic: ${topic}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { user_id: string, amount: long }',
    'tables:',
    '  users:',
    `    table: ${table}`,
    ...(connection ? [`    connection: ${connection}`] : []),
    '    schema: { id: string, tier: string }',
    'sql: SELECT e.user_id, e.amount, u.tier FROM events e JOIN users u ON e.user_id = u.id',
    'sink:',
    `  kafka: { topic: ${out} }`,
    'outputMode: append',
    'trigger: { processingTime: 500 milliseconds }',
    '',
  ].join('\n');
}

describe('a stateful function deployed through the API', () => {
  it('is refused to operators, refused at create time when its code cannot run, and runs when it can', async () => {
    const topic = `it-modules-in-${suffix}`;
    const out = `it-modules-out-${suffix}`;
    // 10 events: users u0..u4, two each. The output topic exists before anyone reads it.
    await createEventsTopic(topic, 2, 10);
    await createEventsTopic(out, 1);
    const name = `modules-${suffix}`;
    const good = statefulSpec(name, topic, out, COUNT_SOURCE);

    const byOperator = await t.call<{ message: string }>('POST', '/api/v1/queries', good, operator);
    expect(byOperator.status).toBe(403);
    expect(byOperator.body.message).toContain('needs the admin role');

    const noSource = await t.call<{ errors: SpecError[] }>(
      'POST',
      '/api/v1/queries',
      statefulSpec(name, topic, out),
      admin,
    );
    expect(noSource.status).toBe(422);
    expect(noSource.body.errors[0]?.path).toBe('stateful.module');

    const broken = statefulSpec(name, topic, out, ['export function countRows(key: unknown[] {', '}']);
    const syntax = await t.call<{ errors: SpecError[] }>('POST', '/api/v1/queries', broken, admin);
    expect(syntax.status).toBe(422);
    expect(syntax.body.errors[0]).toMatchObject({ path: 'stateful.source' });
    expect(syntax.body.errors[0]?.message).toMatch(/^\.\/count\.ts: 1:\d+ /);

    const wrongExport = statefulSpec(name, topic, out, ['export const other = () => [];']);
    const missing = await t.call<{ errors: SpecError[] }>('POST', '/api/v1/queries', wrongExport, admin);
    expect(missing.status).toBe(422);
    expect(missing.body.errors[0]?.message).toContain('no export "countRows" (it exports other)');

    const created = await t.call<{ id: string }>('POST', '/api/v1/queries', good, admin);
    expect(created.status).toBe(201);
    const versions = await t.call<Array<{ planHash: string }>>(
      'GET',
      `/api/v1/queries/${created.body.id}/versions`,
      undefined,
      admin,
    );
    expect(versions.body).toHaveLength(1);
    await running(created.body.id);
    // Counts are running totals, so the last row of each user is 2 however the input was batched.
    const rows = await readTopic<{ user_id: string; n: number }>(out, (rs) =>
      ['u0', 'u1', 'u2', 'u3', 'u4'].every((u) => rs.some((r) => r.user_id === u && r.n === 2)),
    );
    const last = new Map(rows.map((r) => [r.user_id, r.n]));
    expect(Object.fromEntries(last)).toEqual({ u0: 2, u1: 2, u2: 2, u3: 2, u4: 2 });
  }, 300_000);
});

describe('a stream–static join deployed through the API', () => {
  it('is refused with an unknown connection, and joins through the named connection it is given', async () => {
    const topic = `it-join-in-${suffix}`;
    const out = `it-join-out-${suffix}`;
    await createEventsTopic(topic, 2, 10);
    await createEventsTopic(out, 1);
    const name = `join-${suffix}`;

    const unknown = await t.call<{ errors: SpecError[] }>(
      'POST',
      '/api/v1/queries',
      joinSpec(name, topic, out, 'nope'),
      admin,
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0]).toMatchObject({ path: 'tables.users.connection' });
    expect(unknown.body.errors[0]?.message).toContain('unknown connection "nope"');

    // A registered connection (not the built-in `default`): the same sink database under another
    // name, through an environment variable of the control plane (this one has no secrets key).
    const conn = `crm-${suffix}`;
    const urlEnv = `SLUICE_SINK_URL_MODULES_${suffix.toUpperCase()}`;
    process.env[urlEnv] = process.env.SLUICE_SINK_DATABASE_URL;
    const registered = await t.call('POST', '/api/v1/sink-connections', { name: conn, urlEnv }, admin);
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);

    // An operator may deploy a join: it runs no code of its own.
    const created = await t.call<{ id: string }>(
      'POST',
      '/api/v1/queries',
      joinSpec(name, topic, out, conn),
      operator,
    );
    expect(created.status).toBe(201);
    await running(created.body.id);
    // Events i = 0..9 go to user u(i % 5); only u0 and u1 have a row in the table (inner join).
    const rows = await readTopic<{ user_id: string; amount: number; tier: string }>(
      out,
      (rs) => rs.length >= 4,
    );
    expect(rows.sort((a, b) => a.amount - b.amount)).toEqual([
      { user_id: 'u0', amount: 0, tier: 'gold' },
      { user_id: 'u1', amount: 1, tier: 'silver' },
      { user_id: 'u0', amount: 5, tier: 'gold' },
      { user_id: 'u1', amount: 6, tier: 'silver' },
    ]);
    // The connection is in use by the query's table: it cannot be deleted from under it.
    const removed = await t.call<{ code: string }>(
      'DELETE',
      `/api/v1/sink-connections/${conn}`,
      undefined,
      admin,
    );
    expect(removed.status).toBe(409);
    expect(removed.body.code).toBe('SINK_CONNECTION_IN_USE');
  }, 300_000);
});
