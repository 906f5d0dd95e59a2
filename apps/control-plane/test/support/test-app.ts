// Boots the control plane in-process on a free port, with its own token, for integration tests.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../src/app.factory';
import { loadAppConfig } from '../../src/config/app-config';

export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const STAND_IN_ENGINE = path.join(__dirname, '..', 'fixtures', 'stand-in-engine.cjs');

export interface TestApp {
  app: NestExpressApplication;
  base: string;
  home: string;
  token: string;
  call<T = Record<string, unknown>>(
    method: string,
    url: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export function createToken(role: 'admin' | 'operator' | 'viewer', name: string): string {
  const r = spawnSync('npm', ['run', '-s', 'cli', '--', 'token', 'create', '--role', role, '--name', name], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`token create failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const home = env.SLUICE_HOME ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cp-'));
  const config = loadAppConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    SLUICE_HOME: home,
    SLUICE_RECONCILE_INTERVAL_MS: '1000',
    SLUICE_INSTANCE_SETTLE_MS: '500',
    ...env,
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const token = createToken('admin', `it-${path.basename(home)}`);
  const call = async <T>(method: string, url: string, body?: unknown, as?: string) => {
    const isText = typeof body === 'string';
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        Authorization: `Bearer ${as ?? token}`,
        ...(body !== undefined ? { 'Content-Type': isText ? 'application/yaml' : 'application/json' } : {}),
      },
      body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  return { app, base, home, token, call, close: () => app.close() };
}

export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await fn();
  }
  return last;
}

/**
 * Removes the queries a test registered (names containing `suffix`), so that a control plane
 * started later on the same database (the demo, another suite) does not reconcile them.
 */
export async function forgetTestQueries(suffix: string): Promise<void> {
  const { Pool } = await import('pg');
  const pool = new Pool({ connectionString: process.env.DATABASE_URL });
  try {
    await pool.query(`DELETE FROM "Query" WHERE name LIKE $1`, [`%${suffix}%`]);
  } finally {
    await pool.end();
  }
}

/** A small valid stateless spec (events → filter → Kafka) for lifecycle tests. */
export function eventsSpec(
  name: string,
  sourceTopic: string,
  sinkTopic: string,
  trigger = '1 second',
): string {
  return [
    `name: ${name}`,
    'sources:',
    '  events:',
    `    kafka: { topic: ${sourceTopic}, startingOffsets: earliest }`,
    '    format: json',
    '    schema: { user_id: string, amount: long }',
    'sql: |',
    '  SELECT user_id, amount FROM events WHERE amount > 10',
    'sink:',
    `  kafka: { topic: ${sinkTopic} }`,
    'outputMode: append',
    `trigger: { processingTime: ${trigger} }`,
    '',
  ].join('\n');
}

/** SIGKILLs every engine process a test control plane started under `home` (test cleanup). */
export function killTestInstances(home: string): void {
  const instances = path.join(home, 'instances');
  if (!fs.existsSync(instances)) return;
  for (const q of fs.readdirSync(instances)) {
    for (const i of fs.readdirSync(path.join(instances, q))) {
      // The instance and a pre-started successor waiting beside it (an upgrade in progress).
      for (const pidFile of ['pid', 'standby.pid'].map((f) => path.join(instances, q, i, f))) {
        if (!fs.existsSync(pidFile)) continue;
        try {
          process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

/** A step of an operation as the API shows it (GET /api/v1/operations/:id). */
export interface OperationStep {
  name: string;
  state: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  figures?: Record<string, unknown>;
}

export interface Operation {
  id: string;
  type: string;
  state: string;
  error: string | null;
  steps: OperationStep[];
}

/** The operation once it has SUCCEEDED or FAILED (an upgrade with its gate and rollback takes minutes). */
export function operationOutcome(t: TestApp, id: string, timeoutMs = 240_000): Promise<Operation> {
  return eventually(
    () => t.call<Operation>('GET', `/api/v1/operations/${id}`).then((r) => r.body),
    (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
    timeoutMs,
    `operation ${id}`,
  );
}
