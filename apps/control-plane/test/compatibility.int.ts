// Checkpoint compatibility through the API, on the real PostgreSQL: POST /versions reports the new
// version against the running (desired) one, GET /versions/:v/compatibility any pair; 404 naming
// a missing version, 400 for a version that is no integer in 1..2^31-1, 409 (never a 500) for a
// stored version today's compiler refuses. The rules themselves are unit-tested in
// libs/query-plan (check-upgrade.spec.ts); these tests are about the wiring.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiErrorSchema } from '../src/errors/api-error.dto';
import { compatibilityQuery, versionPathParams } from '../src/queries/query.dto';
import { versionCompatibilitySchema, versionCreatedSchema } from '../src/queries/query-responses.dto';
import { PrismaRepository } from '../src/repositories/prisma.repository';
import { createToken, eventsSpec, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

type Change = {
  kind: string;
  severity: string;
  operator?: string;
  path?: string;
  before?: string;
  after?: string;
  message: string;
};
type Report = { against: number; compatible: boolean; changes: Change[] };
type Created = { version: number; warnings: string[]; compatibility: Report | null };
type Compat = Report & { queryId: string; version: number };
type ApiError = { code: string; message: string; errors?: Array<{ path: string; message: string }> };

let t: TestApp;
let viewer: string;
const suffix = `compat-it-${randomUUID().slice(0, 8)}`;
const source = `sluice.${suffix}.in`;
const sink = `sluice.${suffix}.out`;

/** A windowed aggregation: its state is keyed by window, so the window size is part of the checkpoint. */
const windowedSpec = (name: string, window: string): string =>
  [
    `name: ${name}`,
    'sources:',
    '  events:',
    `    kafka: { topic: ${source}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { user_id: string, amount: long, ts: timestamp }',
    '    watermark: { column: ts, delay: 10 seconds }',
    'sql: |',
    `  SELECT window.start AS ws, user_id, count(*) AS n FROM events GROUP BY window(ts, '${window}'), user_id`,
    'sink:',
    `  kafka: { topic: ${sink} }`,
    'outputMode: update',
    '',
  ].join('\n');

async function register(spec: string): Promise<string> {
  const r = await t.call<{ id: string }>('POST', '/api/v1/queries?deploy=false', spec);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}

async function addVersion(id: string, spec: string): Promise<Created> {
  const r = await t.call<Created>('POST', `/api/v1/queries/${id}/versions`, spec);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  versionCreatedSchema.parse(r.body);
  return r.body;
}

const compat = (id: string, v: string | number, query = '', as = viewer) =>
  t.call<Compat & ApiError>(
    'GET',
    `/api/v1/queries/${id}/versions/${v}/compatibility${query}`,
    undefined,
    as,
  );

beforeAll(async () => {
  t = await startTestApp();
  viewer = createToken('viewer', `it-viewer-${suffix}`);
});

afterAll(async () => {
  await t?.close();
  await forgetTestQueries(suffix);
});

describe('POST /queries/:id/versions reports compatibility with the running version', () => {
  let id: string;
  const base = () => eventsSpec(`stateless-${suffix}`, source, sink);

  beforeAll(async () => {
    id = await register(base());
  });

  it('a filter change is compatible, with an allowed filter change', async () => {
    const v2 = await addVersion(id, base().replace('amount > 10', 'amount > 20'));
    expect(v2.version).toBe(2);
    expect(v2.compatibility).toMatchObject({ against: 1, compatible: true });
    expect(v2.compatibility?.changes).toEqual([
      expect.objectContaining({
        kind: 'filter',
        severity: 'allowed',
        operator: 'filter',
        before: expect.stringContaining('10'),
        after: expect.stringContaining('20'),
      }),
    ]);
  });

  it('another source topic is incompatible, and the change names it', async () => {
    // Still compared with version 1: version 2 was added, not deployed.
    const v3 = await addVersion(id, base().replace(`topic: ${source}`, `topic: ${source}.other`));
    expect(v3.compatibility).toMatchObject({ against: 1, compatible: false });
    expect(v3.compatibility?.changes).toContainEqual(
      expect.objectContaining({
        kind: 'source.topic',
        severity: 'incompatible',
        before: expect.stringContaining(source),
        after: expect.stringContaining(`${source}.other`),
      }),
    );
  });

  it('a windowed aggregation whose window size changes is incompatible', async () => {
    const wid = await register(windowedSpec(`windowed-${suffix}`, '1 minute'));
    const v2 = await addVersion(wid, windowedSpec(`windowed-${suffix}`, '2 minutes'));
    expect(v2.compatibility).toMatchObject({ against: 1, compatible: false });
    expect(v2.compatibility?.changes).toContainEqual(
      expect.objectContaining({ kind: 'aggregate.window', severity: 'incompatible', operator: 'aggregate' }),
    );
  });

  it('compares with the desired version, not the latest', async () => {
    // After deploying version 2 (the filter change) it is the base: 3 differs from it by the topic and the filter.
    const prisma = t.app.get(PrismaRepository);
    await prisma.query.update({ where: { id }, data: { desiredVersion: 2 } });
    try {
      const v4 = await addVersion(
        id,
        base()
          .replace('amount > 10', 'amount > 20')
          .replace('SELECT user_id, amount', 'SELECT amount, user_id'),
      );
      expect(v4.compatibility?.against).toBe(2);
      expect(v4.compatibility?.compatible).toBe(true);
      expect(v4.compatibility?.changes.map((c) => c.kind)).toEqual(['projection']);
    } finally {
      await prisma.query.update({ where: { id }, data: { desiredVersion: 1 } });
    }
  });
});

describe('GET /queries/:id/versions/:v/compatibility', () => {
  let id: string;
  const base = () => eventsSpec(`pairs-${suffix}`, source, sink);

  beforeAll(async () => {
    id = await register(base());
    await addVersion(id, base().replace('amount > 10', 'amount > 20')); // 2
    await addVersion(id, base().replace(`topic: ${source}`, `topic: ${source}.other`)); // 3
  });

  it('reports a pair, for a viewer', async () => {
    const r = await compat(id, 3, '?against=2');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(versionCompatibilitySchema.parse(r.body)).toMatchObject({
      queryId: id,
      version: 3,
      against: 2,
      compatible: false,
    });
    expect(r.body.changes.map((c) => c.kind).sort()).toEqual(['filter', 'source.topic']);
  });

  it('defaults `against` to the desired version', async () => {
    const r = await compat(id, 2);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      version: 2,
      against: 1,
      compatible: true,
      changes: [expect.objectContaining({ kind: 'filter', severity: 'allowed' })],
    });
    const same = await compat(id, 1);
    expect(same.body).toMatchObject({ version: 1, against: 1, compatible: true, changes: [] });
  });

  it('404 names the missing version; a malformed or unknown query id is a 404 too', async () => {
    const missing = await compat(id, 9);
    expect(missing.status).toBe(404);
    expect(apiErrorSchema.parse(missing.body)).toMatchObject({
      code: 'VERSION_NOT_FOUND',
      message: expect.stringMatching(/no version 9\b/),
    });
    const against = await compat(id, 2, '?against=7');
    expect(against.status).toBe(404);
    expect(against.body.message).toMatch(/no version 7\b/);
    const both = await compat(id, 8, '?against=7');
    expect(both.body.message).toMatch(/8.*7/);
    expect((await compat(randomUUID(), 1)).status).toBe(404);
    expect((await compat('not-a-uuid', 1)).status).toBe(404);
  });

  it('400 for a version or `against` that is no integer in 1..2^31-1', async () => {
    for (const v of ['0', 'abc', '1.5', '1e3', '0x10', '-1', '2147483648', '99999999999999999999']) {
      const r = await compat(id, v);
      expect(r.status, `v=${v}`).toBe(400);
      expect(apiErrorSchema.parse(r.body)).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [expect.objectContaining({ path: 'v' })],
      });
    }
    for (const against of ['0', 'x', '2.0', '2147483648', '']) {
      const r = await compat(id, 2, `?against=${against}`);
      expect(r.status, `against=${against}`).toBe(400);
      expect(r.body.errors).toEqual([expect.objectContaining({ path: 'against' })]);
    }
    expect((await compat(id, 2147483647)).status).toBe(404);
  });

  it('needs a token', async () => {
    const r = await fetch(`${t.base}/api/v1/queries/${id}/versions/2/compatibility`);
    expect(r.status).toBe(401);
  });
});

describe('a stored version that no longer compiles', () => {
  let id: string;
  const base = () => eventsSpec(`stale-${suffix}`, source, sink);
  // As if stored under looser limits or an older grammar: today's compiler refuses it.
  const stale = [`name: stale-${suffix}`, 'sources: {}', 'sql: SELECT nope FROM nowhere', ''].join('\n');

  beforeAll(async () => {
    id = await register(base());
    const prisma = t.app.get(PrismaRepository);
    await prisma.queryVersion.create({
      data: {
        queryId: id,
        version: 2,
        specText: stale,
        spec: {},
        plan: {},
        planHash: 'stale',
        createdBy: 'test',
      },
    });
  });

  it('GET answers 409 naming the version, never a 500', async () => {
    for (const [v, query] of [
      [2, ''],
      [1, '?against=2'],
    ] as const) {
      const r = await compat(id, v, query);
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(apiErrorSchema.parse(r.body)).toMatchObject({
        code: 'VERSION_NOT_COMPILABLE',
        message: expect.stringContaining('version 2 '),
      });
      expect(r.body.errors?.length).toBeGreaterThan(0);
    }
  });

  it('POST /versions still adds the version, with no report and a warning, when the running version no longer compiles', async () => {
    const prisma = t.app.get(PrismaRepository);
    await prisma.query.update({ where: { id }, data: { desiredVersion: 2 } });
    const v3 = await addVersion(id, base().replace('amount > 10', 'amount > 20'));
    expect(v3.version).toBe(3);
    expect(v3.compatibility).toBeNull();
    expect(v3.warnings).toContainEqual(
      expect.stringMatching(/^compatibility not checked: version 2 of query/),
    );
  });
});

describe('OpenAPI', () => {
  type Param = { name: string; in: string; required?: boolean; schema?: unknown };
  type Op = {
    parameters?: Param[];
    responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  };

  it('documents the parameters with the schemas the API validates with, and the report responses', async () => {
    const res = await fetch(`${t.base}/api/docs/openapi.json`);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, Op>>;
      components: { schemas: Record<string, unknown> };
    };
    const op = doc.paths['/api/v1/queries/{id}/versions/{v}/compatibility']?.get;
    expect(op).toBeDefined();
    const props = (schema: z.ZodType) =>
      (
        z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as {
          properties: Record<string, unknown>;
        }
      ).properties;
    const param = (name: string, where: string) =>
      op?.parameters?.find((p) => p.name === name && p.in === where);
    expect(param('id', 'path')).toMatchObject({ required: true, schema: { type: 'string', format: 'uuid' } });
    expect(param('v', 'path')).toMatchObject({ required: true, schema: props(versionPathParams).v });
    expect(param('v', 'path')?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 });
    expect(param('against', 'query')).toMatchObject({
      required: false,
      schema: props(compatibilityQuery).against,
    });
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '503',
    ]);
    expect(op?.responses['200']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/VersionCompatibility',
    });
    expect(doc.components.schemas.QueryVersionCreated).toMatchObject({
      properties: { compatibility: expect.anything() },
    });
    expect(doc.components.schemas.CompatibilityReport).toBeDefined();
    expect(doc.components.schemas.UpgradeChange).toMatchObject({
      properties: { severity: { enum: ['allowed', 'caveat', 'incompatible'] } },
    });
  });
});
