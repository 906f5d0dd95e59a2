// Bearer tokens, roles, audit rows and error shapes through the real HTTP stack and database.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.factory';
import { loadAppConfig } from '../src/config/app-config';

const ROOT = path.resolve(__dirname, '..', '..', '..');
let app: NestExpressApplication;
let base: string;
let admin: string;

async function call(method: string, url: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { token?: string; id?: string } };
}

beforeAll(async () => {
  // The CLI is how a fresh install gets its first admin token.
  const r = spawnSync('npm', ['run', '-s', 'cli', '--', 'token', 'create', '--role', 'admin', '--name', 'auth-it'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  admin = r.stdout.trim();
  expect(admin).toMatch(/^slc_/);
  app = await createApp(loadAppConfig({ ...process.env, LOG_LEVEL: 'silent' }));
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
});

afterAll(async () => {
  await app?.close();
});

describe('authentication and roles', () => {
  it('401 without a token or with an unknown one; health stays public', async () => {
    expect((await call('GET', '/api/v1/tokens')).status).toBe(401);
    const unknown = await call('GET', '/api/v1/tokens', 'slc_not-a-real-token');
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('UNAUTHENTICATED');
    expect((await call('GET', '/healthz')).status).toBe(200);
  });

  it('an admin creates tokens; a viewer gets 403 naming the role needed', async () => {
    const created = await call('POST', '/api/v1/tokens', admin, { name: 'watcher', role: 'viewer' });
    expect(created.status).toBe(201);
    expect(created.body.role).toBe('viewer');
    const viewer = created.body.token as string;
    const denied = await call('POST', '/api/v1/tokens', viewer, { name: 'x', role: 'admin' });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ code: 'FORBIDDEN' });
    expect(String(denied.body.message)).toContain('needs role admin');
  });

  it('stores only a hash and writes an audit row with the actor and request id', async () => {
    const created = await call('POST', '/api/v1/tokens', admin, { name: 'audited', role: 'operator' });
    const list = await call('GET', '/api/v1/tokens', admin);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token as string);
    const audit = await fetch(`${base}/api/v1/audit?target=token/${created.body.id}`, { headers: { Authorization: `Bearer ${admin}` } });
    const rows = (await audit.json()) as Array<{ actor: string; action: string; after: { role: string }; requestId: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'auth-it', action: 'token.create', after: { role: 'operator' } });
    expect(rows[0]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a revoked token stops working', async () => {
    const created = await call('POST', '/api/v1/tokens', admin, { name: 'short-lived', role: 'admin' });
    const secret = created.body.token as string;
    expect((await call('GET', '/api/v1/tokens', secret)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/tokens/${created.body.id}`, admin)).status).toBe(200);
    expect((await call('GET', '/api/v1/tokens', secret)).status).toBe(401);
  });
});

describe('error shapes', () => {
  it('400 names the field at fault', async () => {
    const r = await call('POST', '/api/v1/tokens', admin, { name: '', role: 'root' });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    expect((r.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['name', 'role']);
  });

  it('malformed JSON is 400, an oversized body 413, an unknown id 404', async () => {
    expect((await call('POST', '/api/v1/tokens', admin, '{bad')).status).toBe(400);
    const big = await call('POST', '/api/v1/tokens', admin, { name: 'x'.repeat(2 * 1024 * 1024), role: 'viewer' });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
    const missing = await call('DELETE', '/api/v1/tokens/00000000-0000-4000-8000-000000000000', admin);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });
});
