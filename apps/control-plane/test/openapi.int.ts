// The OpenAPI document and method routing through the real HTTP stack: request schemas in the
// document are the zod schemas the API validates with, every operation documents its errors with
// the ApiError body the API sends, and a known path asked with another method answers 405 + Allow.
import { querySpecSchema } from '@sluice/query-plan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z, type ZodType } from 'zod';
import { APP_CONFIG, type AppConfig } from '../src/config/app-config';
import { apiErrorSchema } from '../src/errors/api-error.dto';
import { refusedDataCode } from '../src/errors/refused-data';
import { deployBody, listQuery, scaleBody } from '../src/queries/query.dto';
import { PrismaRepository } from '../src/repositories/prisma.repository';
import { scalingBody } from '../src/scaling/scaling.dto';
import { SPEC_MEDIA_TYPES } from '../src/queries/spec-upload';
import { eventsSpec, forgetTestQueries, startTestApp, type TestApp } from './support/test-app';

interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  security?: Array<Record<string, unknown>>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

let t: TestApp;
let doc: OpenApi;
let config: AppConfig;

/** A schema as the document shows a request side: zod's input JSON Schema, OpenAPI 3.0 flavour. */
const requestSide = (schema: ZodType): unknown => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  });
  return rest;
};
const op = (method: string, path: string): Operation => {
  const found = doc.paths[path]?.[method];
  if (!found) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
  return found;
};
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, o]) => ({ label: `${method.toUpperCase()} ${path}`, path, o })),
  );

beforeAll(async () => {
  t = await startTestApp();
  config = t.app.get<AppConfig>(APP_CONFIG);
  const res = await fetch(`${t.base}/api/docs/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApi;
});

const suffix = `openapi-it-${process.pid}`;

afterAll(async () => {
  await t?.close();
  await forgetTestQueries(suffix);
});

describe('OpenAPI document', () => {
  it('documents bodies and query parameters with the schemas the API validates with', () => {
    expect(
      op('post', '/api/v1/queries/{id}/deploy').requestBody?.content['application/json']?.schema,
    ).toEqual(requestSide(deployBody));
    // Limits that come from the configuration are the configured ones.
    expect(doc.components.schemas.ScaleRequest).toEqual(requestSide(scaleBody(config.SLUICE_MAX_INSTANCES)));
    expect(doc.components.schemas.ScalingRequest).toEqual(
      requestSide(scalingBody(config.SLUICE_MAX_INSTANCES)),
    );
    expect(doc.components.schemas.QuerySpec).toEqual(requestSide(querySpecSchema));
    // The per-query CPU limit is documented with its bounds, on the request and on the settings.
    for (const name of ['ScalingRequest', 'ScalingSettings']) {
      const cpu = JSON.stringify(
        (doc.components.schemas[name] as { properties: Record<string, unknown> }).properties.cpuLimit,
      );
      expect(cpu, name).toContain('"minimum":0.01');
      expect(cpu, name).toContain('"maximum":64');
    }
    const listed = requestSide(listQuery) as { properties: Record<string, unknown> };
    const params = op('get', '/api/v1/queries/{id}/progress').parameters ?? [];
    for (const name of ['since', 'limit']) {
      expect(params.find((p) => p.in === 'query' && p.name === name)?.schema).toEqual(
        listed.properties[name],
      );
    }
    expect(params.find((p) => p.in === 'path' && p.name === 'id')).toMatchObject({
      required: true,
      schema: { type: 'string', format: 'uuid' },
    });
  });

  it('documents the spec endpoints as YAML, plain text or JSON', () => {
    for (const path of ['/api/v1/queries', '/api/v1/queries/{id}/versions']) {
      const content = op('post', path).requestBody?.content ?? {};
      expect(Object.keys(content).sort()).toEqual([...SPEC_MEDIA_TYPES].sort());
      expect(SPEC_MEDIA_TYPES).toEqual(
        expect.arrayContaining(['application/yaml', 'text/yaml', 'text/plain', 'application/json']),
      );
      expect(content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/QuerySpec' });
      expect(content['text/yaml']?.schema).toMatchObject({ type: 'string' });
      expect(Object.keys(op('post', path).responses)).toEqual(
        expect.arrayContaining(['201', '400', '401', '403', '409', '413', '415', '422', '503']),
      );
    }
  });

  it('gives every API operation bearer security, error responses with the ApiError body, and a success schema', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const api = operations().filter((o) => o.path.startsWith('/api/v1/'));
    expect(api.length).toBeGreaterThan(20);
    for (const { label, path, o } of api) {
      expect(o.security, label).toEqual([{ bearer: [] }]);
      const statuses = Object.keys(o.responses);
      expect(statuses, label).toEqual(expect.arrayContaining(['401', '403', '503']));
      if (path.includes('{')) expect(statuses, label).toContain('404');
      for (const status of statuses.filter((s) => s >= '400')) {
        expect(o.responses[status]?.content?.['application/json']?.schema, `${label} ${status}`).toEqual({
          $ref: '#/components/schemas/ApiError',
        });
      }
      const success = statuses.find((s) => s.startsWith('2'));
      expect(success, label).toBeDefined();
      if (success !== '204')
        expect(
          Object.values(o.responses[success!]?.content ?? {})[0]?.schema,
          `${label} ${success}`,
        ).toBeDefined();
    }
    expect(doc.components.schemas.ApiError).toMatchObject({
      type: 'object',
      required: ['statusCode', 'code', 'message'],
    });
  });

  it('describes the error bodies the API really sends', async () => {
    const bad = await t.call('POST', `/api/v1/queries/${crypto.randomUUID()}/deploy`, { version: 0 });
    expect(bad.status).toBe(400);
    expect(apiErrorSchema.parse(bad.body)).toMatchObject({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'version' }],
    });
    const malformed = await fetch(`${t.base}/api/v1/queries/${crypto.randomUUID()}/deploy`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.token}`, 'Content-Type': 'application/json' },
      body: '{"version": ',
    });
    expect(malformed.status).toBe(400);
    expect(apiErrorSchema.parse(await malformed.json()).code).toBe('INVALID_JSON');
    const missing = await t.call('GET', `/api/v1/queries/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(apiErrorSchema.parse(missing.body).code).toBe('NOT_FOUND');
  });

  it('refuses values PostgreSQL cannot hold with 400, not 500', async () => {
    const created = await t.call<{ id: string }>(
      'POST',
      '/api/v1/queries?deploy=false',
      eventsSpec(`q-${suffix}`, 'sluice.openapi-it.in', 'sluice.openapi-it.out'),
    );
    expect(created.status).toBe(201);
    // Year 0000 is ISO 8601 but no PostgreSQL timestamp (found by the schemathesis suite as a 500).
    const since = await t.call(
      'GET',
      `/api/v1/queries/${created.body.id}/progress?since=0000-01-01T00:00:00Z`,
    );
    expect(since.status).toBe(400);
    expect(apiErrorSchema.parse(since.body)).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'since' }],
    });
    const big = await t.call('POST', `/api/v1/queries/${created.body.id}/deploy`, { version: 2 ** 31 });
    expect(big.status).toBe(400);
    // What the error filter's safety net recognises, as the database really reports it.
    const prisma = t.app.get(PrismaRepository);
    const refused = await prisma.progressEvent
      .findMany({ where: { timestamp: { gt: new Date('0000-01-01T00:00:00Z') } } })
      .then(
        () => undefined,
        (e: unknown) => refusedDataCode(e),
      );
    expect(refused).toBe('22008');
  });
});

describe('methods a path does not serve', () => {
  const send = (method: string, path: string, token?: string) =>
    fetch(`${t.base}${path}`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });

  it('answers 405 with Allow, before authentication, on a known path', async () => {
    const res = await send('PUT', '/api/v1/queries');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect(apiErrorSchema.parse(await res.json())).toMatchObject({
      statusCode: 405,
      code: 'METHOD_NOT_ALLOWED',
    });

    const withParam = await send('PATCH', `/api/v1/queries/${crypto.randomUUID()}`, t.token);
    expect(withParam.status).toBe(405);
    expect(withParam.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS');

    const health = await send('DELETE', '/healthz');
    expect(health.status).toBe(405);
    expect(health.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('answers OPTIONS with 204 and Allow', async () => {
    const res = await send('OPTIONS', `/api/v1/queries/${crypto.randomUUID()}/scale`);
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('keeps 404 for unknown paths and for unknown ids on a served method', async () => {
    const unknown = await send('PUT', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('allow')).toBeNull();
    const id = await send('GET', `/api/v1/queries/${crypto.randomUUID()}`, t.token);
    expect(id.status).toBe(404);
    expect((await send('HEAD', '/healthz')).status).toBe(200);
  });
});
