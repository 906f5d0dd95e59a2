// One plan hash: the one the API stores for a version is the one the engine computes for the same
// spec (they used to differ: the API hashed JSON.stringify(plan), the library canonical JSON).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsSpec, forgetTestQueries, ROOT, startTestApp, type TestApp } from './support/test-app';

const suffix = randomUUID().slice(0, 8);
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
  await forgetTestQueries(suffix);
});

describe('plan hash', () => {
  it('is the same in the API and in the engine for the same spec', async () => {
    const spec = eventsSpec(`hash-${suffix}`, `it-hash-in-${suffix}`, `it-hash-out-${suffix}`);
    const created = await t.call<{ id: string }>('POST', '/api/v1/queries?deploy=false', spec);
    expect(created.status).toBe(201);
    const versions = await t.call<Array<{ version: number; planHash: string }>>(
      'GET',
      `/api/v1/queries/${created.body.id}/versions`,
    );
    const apiHash = versions.body[0]?.planHash;
    expect(apiHash).toMatch(/^[0-9a-f]{64}$/);

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-hash-')), 'spec.yaml');
    fs.writeFileSync(file, spec);
    const r = spawnSync('npm', ['run', '-s', 'engine', '--', 'validate', '--spec', file], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { planHash: string }).planHash).toBe(apiHash);
  });
});
