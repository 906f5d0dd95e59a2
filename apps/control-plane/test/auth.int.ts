// Bearer tokens, roles, audit rows and error shapes through the real HTTP stack and database.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
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
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { token?: string; id?: string },
  };
}

beforeAll(async () => {
  // The CLI is how a fresh install gets its first admin token.
  const r = spawnSync(
    'npm',
    ['run', '-s', 'cli', '--', 'token', 'create', '--role', 'admin', '--name', 'auth-it'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
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
    const audit = await fetch(`${base}/api/v1/audit?target=token/${created.body.id}`, {
      headers: { Authorization: `Bearer ${admin}` },
    });
    const rows = (await audit.json()) as Array<{
      actor: string;
      action: string;
      after: { role: string };
      requestId: string;
    }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'auth-it', action: 'token.create', after: { role: 'operator' } });
    expect(rows[0]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('audits with the token id, before and after, and a second revoke changes nothing', async () => {
    const created = await call('POST', '/api/v1/tokens', admin, { name: 'twice', role: 'viewer' });
    const first = await call('DELETE', `/api/v1/tokens/${created.body.id}`, admin);
    const second = await call('DELETE', `/api/v1/tokens/${created.body.id}`, admin);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.revokedAt).toBe(first.body.revokedAt);
    const audit = await fetch(`${base}/api/v1/audit?target=token/${created.body.id}`, {
      headers: { Authorization: `Bearer ${admin}` },
    });
    const rows = (await audit.json()) as Array<{
      action: string;
      actor: string;
      actorId: string;
      before: { revokedAt: string | null } | null;
      after: { revokedAt: string | null };
    }>;
    expect(rows.map((r) => r.action)).toEqual(['token.revoke', 'token.create']);
    const revoke = rows[0]!;
    expect(revoke.actor).toBe('auth-it');
    expect(revoke.actorId).toMatch(/^token\/[0-9a-f-]{36}$/);
    expect(revoke.before?.revokedAt).toBeNull();
    expect(revoke.after.revokedAt).toBe(first.body.revokedAt);
    // The CLI that made the admin token is audited with the operating-system user.
    const adminId = revoke.actorId.slice('token/'.length);
    const cliRows = (await (
      await fetch(`${base}/api/v1/audit?target=token/${adminId}`, {
        headers: { Authorization: `Bearer ${admin}` },
      })
    ).json()) as Array<{ actor: string; actorId: string }>;
    expect(cliRows[0]?.actor).toMatch(/^cli:\S+$/);
    expect(cliRows[0]?.actorId).toMatch(/^os\/\S+$/);
    expect(cliRows[0]?.actor).not.toBe('cli:unknown');
  });

  it('refuses control characters in token names and in audit filters with 400, not 500', async () => {
    expect(
      (await call('POST', '/api/v1/tokens', admin, { name: 'bad\u0000name', role: 'viewer' })).status,
    ).toBe(400);
    expect((await call('GET', '/api/v1/audit?target=%00', admin)).status).toBe(400);
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
    const big = await call('POST', '/api/v1/tokens', admin, {
      name: 'x'.repeat(2 * 1024 * 1024),
      role: 'viewer',
    });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
    const missing = await call('DELETE', '/api/v1/tokens/00000000-0000-4000-8000-000000000000', admin);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });
});

describe('bootstrap token', () => {
  // Its own database: rotating the bootstrap token revokes the previous one, which must not touch
  // the demo's or another suite's bootstrap token in the shared database.
  const dbName = `sluice_bootstrap_it_${process.pid}`;
  const dbUrl = new URL(process.env.DATABASE_URL!);
  dbUrl.pathname = `/${dbName}`;
  let pg: Client;

  beforeAll(async () => {
    pg = new Client({ connectionString: process.env.DATABASE_URL });
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await pg.query(`CREATE DATABASE "${dbName}"`);
    const migrated = spawnSync('npm', ['run', '-s', 'db:migrate'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: dbUrl.toString() },
    });
    expect(migrated.status, migrated.stderr).toBe(0);
  });

  afterAll(async () => {
    await pg.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await pg.end();
  });

  it('is registered once (hashed), stays revoked across restarts, and is replaced when the variable changes', async () => {
    const first = `slc_boot_${Date.now()}_${'a'.repeat(24)}`;
    const boot = async (secret: string) => {
      const a = await createApp(
        loadAppConfig({
          ...process.env,
          DATABASE_URL: dbUrl.toString(),
          LOG_LEVEL: 'silent',
          SLUICE_BOOTSTRAP_TOKEN: secret,
        }),
      );
      await a.listen(0, '127.0.0.1');
      return { a, url: `http://127.0.0.1:${(a.getHttpServer().address() as { port: number }).port}` };
    };
    const probe = (url: string, token: string) =>
      fetch(`${url}/api/v1/tokens`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status);

    let cp = await boot(first);
    expect(await probe(cp.url, first)).toBe(200);
    const rows = (await (
      await fetch(`${cp.url}/api/v1/tokens`, { headers: { Authorization: `Bearer ${first}` } })
    ).json()) as Array<{ id: string; origin: string; revokedAt: string | null }>;
    const mine = rows.filter((r) => r.origin === 'bootstrap' && r.revokedAt === null);
    expect(mine).toHaveLength(1);
    const id = mine[0]!.id;
    expect(JSON.stringify(rows)).not.toContain(first);
    const revoked = await fetch(`${cp.url}/api/v1/tokens/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${first}` },
    });
    expect(revoked.status).toBe(200);
    await cp.a.close();

    // A restart with the same value does not bring the revoked token back.
    cp = await boot(first);
    expect(await probe(cp.url, first)).toBe(401);
    await cp.a.close();

    // A new value works, and a still-active token of an earlier value is revoked.
    const second = `slc_boot2_${Date.now()}_${'b'.repeat(24)}`;
    cp = await boot(second);
    expect(await probe(cp.url, second)).toBe(200);
    await cp.a.close();
    const third = `slc_boot3_${Date.now()}_${'c'.repeat(24)}`;
    cp = await boot(third);
    expect(await probe(cp.url, third)).toBe(200);
    expect(await probe(cp.url, second)).toBe(401);
    await cp.a.close();
  });
});
