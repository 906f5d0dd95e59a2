// The control plane's database going away: the API answers 503 with Retry-After (not 500), /readyz
// names PostgreSQL without its address, and everything answers again when it returns. The shared
// PostgreSQL is never stopped: the control plane reaches it through a proxy this test cuts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '@sluice/testing';
import { eventually, startTestApp, type TestApp } from './support/test-app';

let proxy: TcpProxy;
let t: TestApp;

beforeAll(async () => {
  const db = new URL(process.env.DATABASE_URL!);
  proxy = await TcpProxy.start(db.hostname, Number(db.port));
  db.port = String(proxy.port);
  t = await startTestApp({ DATABASE_URL: db.toString(), SLUICE_READY_TIMEOUT_MS: '1000' });
});

afterAll(async () => {
  await proxy?.restore();
  await t?.close();
  await proxy?.close();
});

describe('database outage', () => {
  it('answers 503 with Retry-After while PostgreSQL is unreachable, and 200 when it is back', async () => {
    expect((await t.call('GET', '/api/v1/queries')).status).toBe(200);
    await proxy.cut();
    // Authenticated reads and writes alike (the token cache may answer the first look-up).
    for (const [method, url, body] of [
      ['GET', '/api/v1/queries', undefined],
      ['GET', '/api/v1/audit?limit=1', undefined],
      ['POST', '/api/v1/tokens', { name: 'during-outage', role: 'viewer' }],
    ] as const) {
      const res = await fetch(`${t.base}${url}`, {
        method,
        headers: {
          Authorization: `Bearer ${t.token}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      expect(res.status, `${method} ${url}`).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await res.json()).toMatchObject({ code: 'UNAVAILABLE' });
    }
    const ready = await fetch(`${t.base}/readyz`);
    expect(ready.status).toBe(503);
    const report = (await ready.json()) as { error: Record<string, { message: string }> };
    expect(report.error.postgres?.message).toMatch(/^(not reachable|did not answer within \d+ ms)$/);
    expect(JSON.stringify(report)).not.toMatch(/127\.0\.0\.1|Prisma|invocation/);

    await proxy.restore();
    const back = await eventually(
      () => t.call('GET', '/api/v1/queries'),
      (r) => r.status === 200,
      30_000,
      'API back after the outage',
    );
    expect(back.status).toBe(200);
    expect((await fetch(`${t.base}/readyz`)).status).toBe(200);
  });
});
