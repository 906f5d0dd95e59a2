// /readyz against the real stack, including the project's Redis going away and coming back.
import type { NestExpressApplication } from '@nestjs/platform-express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createApp } from '../src/app.factory';
import { loadAppConfig } from '../src/config/app-config';

let app: NestExpressApplication;
let base: string;
const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Stops/starts the project's own Redis through the stack CLI, as an operator would. */
function stack(cmd: 'up' | 'down', component: string): void {
  const r = spawnSync('npx', ['tsx', 'scripts/stack/cli.ts', cmd, component], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`stack ${cmd} ${component} failed: ${r.stderr}`);
}

async function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Polls until `ok`. A request that fails outright counts as "not yet": the stack CLI runs through
 * spawnSync, which blocks this process (and the app inside it) for seconds, after which the
 * server closes the keep-alive socket the next fetch is about to reuse (ECONNRESET).
 */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const attempt = () =>
    fn().then(
      (v) => ({ v }),
      (error: unknown) => ({ error }),
    );
  let last = await attempt();
  while (!('v' in last && ok(last.v)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    last = await attempt();
  }
  if ('error' in last) throw last.error;
  return last.v;
}

beforeAll(async () => {
  app = await createApp(
    loadAppConfig({
      ...process.env,
      SLUICE_API_PORT: '1',
      LOG_LEVEL: 'silent',
      SLUICE_METRICS_ACCESS: 'open',
    }),
  );
  await app.listen(0, '127.0.0.1');
  const addr = app.getHttpServer().address() as { port: number };
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  stack('up', 'redis'); // never leave the shared stack without Redis
  await app?.close();
});

describe('health endpoints', () => {
  it('/healthz answers while the process lives', async () => {
    const { status, body } = await getJson('/healthz');
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 with PostgreSQL, Redis and Kafka up', async () => {
    const { status, body } = await eventually(
      () => getJson('/readyz'),
      (r) => r.status === 200,
    );
    expect(status).toBe(200);
    expect(Object.keys(body.info as object).sort()).toEqual(['kafka', 'postgres', 'redis']);
  });

  it('/readyz is 503 naming Redis when Redis stops, and 200 again after it restarts', async () => {
    stack('down', 'redis');
    const down = await eventually(
      () => getJson('/readyz'),
      (r) => r.status === 503,
    );
    expect(down.status).toBe(503);
    const error = down.body.error as Record<string, { status: string; message: string }>;
    expect(Object.keys(error)).toEqual(['redis']);
    expect(error.redis?.status).toBe('down');
    // Unauthenticated: what is down, never where it lives or the driver's text.
    expect(error.redis?.message).toMatch(/^(not reachable|did not answer within \d+ ms)$/);
    expect(JSON.stringify(down.body)).not.toMatch(/127\.0\.0\.1|:56379|ECONNREFUSED|Prisma/);
    expect((down.body.info as Record<string, unknown>).postgres).toBeDefined();

    stack('up', 'redis');
    const up = await eventually(
      () => getJson('/readyz'),
      (r) => r.status === 200,
    );
    expect(up.status).toBe(200);
  });

  it('/metrics exposes default metrics and sluice_build_info', async () => {
    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/^sluice_build_info\{version="0\.1\.0",commit="[^"]+",node="v\d+[^"]*"\} 1$/m);
    expect(text).toContain('sluice_process_resident_memory_bytes');
  });

  it('serves the OpenAPI document at /api/docs', async () => {
    const res = await fetch(`${base}/api/docs/openapi.json`);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(res.status).toBe(200);
    expect(doc.paths['/readyz']).toBeDefined();
  });

  it('echoes a caller-supplied X-Request-Id and generates one otherwise', async () => {
    const given = await fetch(`${base}/healthz`, { headers: { 'X-Request-Id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const generated = await fetch(`${base}/healthz`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
