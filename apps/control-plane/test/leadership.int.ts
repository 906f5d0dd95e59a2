// Two control planes on one database and one runtime: exactly one leads (reconciles, runs
// operations, scales), the other serves the API; a deploy asked of the follower runs once, on the
// leader; SIGKILL the leader and the follower takes over (within 15 s), adopting the running
// engines without restarting or duplicating them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@sluice/testing';
import { createToken, eventually, forgetTestQueries, ROOT, STAND_IN_ENGINE } from './support/test-app';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-leadership-'));
const suffix = randomUUID().slice(0, 8);
let token: string;

interface Replica {
  name: string;
  port: number;
  proc: ChildProcess;
}
const replicas: Replica[] = [];

interface ClusterView {
  cluster: string;
  replica: string;
  isLeader: boolean;
  leader: string | null;
}

async function startReplica(name: string): Promise<Replica> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/control-plane/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      POD_NAME: name,
      SLUICE_API_PORT: String(port),
      SLUICE_HOME: home,
      SLUICE_ENGINE_COMMAND: JSON.stringify([process.execPath, STAND_IN_ENGINE]),
      SLUICE_RECONCILE_INTERVAL_MS: '1000',
      SLUICE_INSTANCE_SETTLE_MS: '1000',
      SLUICE_LEADER_RETRY_MS: '1000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const replica = { name, port, proc };
  replicas.push(replica);
  await eventually(
    () =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      ),
    (s) => s === 200,
    60_000,
    `${name} ready`,
  );
  return replica;
}

async function call<T>(r: Replica, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${r.port}${url}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined
        ? { 'Content-Type': typeof body === 'string' ? 'application/yaml' : 'application/json' }
        : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${url} on ${r.name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Live stand-in engines of the query in this test's runtime home: instance name → pid. */
function liveEngines(queryId: string): Record<string, number> {
  const dir = path.join(home, 'instances', queryId);
  if (!fs.existsSync(dir)) return {};
  const live: Record<string, number> = {};
  for (const name of fs.readdirSync(dir)) {
    const pid = Number(fs.readFileSync(path.join(dir, name, 'pid'), 'utf8'));
    try {
      process.kill(pid, 0);
      live[name] = pid;
    } catch {
      // exited: not live
    }
  }
  return live;
}

/** Engine processes of the query, counted by the OS (a duplicate start would show here). */
function engineProcessCount(queryId: string): number {
  const r = spawnSync('pgrep', ['-f', `stand-in-engine.cjs.*${path.join(home, 'instances', queryId)}/`], {
    encoding: 'utf8',
  });
  return r.stdout.split('\n').filter(Boolean).length;
}

const spec = (name: string) =>
  `name: ${name}\nsources:\n  events:\n    kafka: { topic: it-lead-${suffix}, startingOffsets: earliest }\n    format: json\n    schema: { user_id: string, amount: long }\nsql: |\n  SELECT user_id, amount FROM events WHERE amount > 10\nsink:\n  kafka: { topic: it-lead-out-${suffix} }\noutputMode: append\ntrigger: { processingTime: 1 second }\n`;

async function waitOperation(
  r: Replica,
  id: string,
  what: string,
): Promise<{ state: string; error: string | null }> {
  return eventually(
    () => call<{ state: string; error: string | null }>(r, 'GET', `/api/v1/operations/${id}`),
    (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
    90_000,
    what,
  );
}

beforeAll(async () => {
  token = createToken('admin', `leadership-${suffix}`);
  await startReplica(`cp-a-${suffix}`);
  await startReplica(`cp-b-${suffix}`);
});

afterAll(async () => {
  for (const r of replicas) r.proc.kill('SIGKILL');
  spawnSync('pkill', ['-9', '-f', `stand-in-engine.cjs.*${home}`]);
  await forgetTestQueries(suffix);
});

describe('two control planes', () => {
  let queryId: string;
  let leader: Replica;
  let follower: Replica;

  it('elect exactly one leader, and every replica names it', async () => {
    const views = await eventually(
      () => Promise.all(replicas.map((r) => call<ClusterView>(r, 'GET', '/api/v1/cluster'))),
      (v) => v.filter((x) => x.isLeader).length === 1 && v.every((x) => x.leader !== null),
      30_000,
      'one leader',
    );
    const leading = views.find((v) => v.isLeader)!;
    expect(views.map((v) => v.leader)).toEqual([leading.replica, leading.replica]);
    expect(new Set(views.map((v) => v.cluster)).size).toBe(1);
    leader = replicas.find((r) => r.name === leading.replica)!;
    follower = replicas.find((r) => r !== leader)!;
    expect(follower).toBeDefined();
  });

  it('run a deploy asked of the follower once, on the leader', async () => {
    const created = await call<{ id: string; operation: { id: string } }>(
      follower,
      'POST',
      '/api/v1/queries',
      spec(`lead-${suffix}`),
    );
    queryId = created.id;
    expect(await waitOperation(follower, created.operation.id, 'deploy')).toMatchObject({
      state: 'SUCCEEDED',
    });
    const scale = await call<{ id: string }>(follower, 'POST', `/api/v1/queries/${queryId}/scale`, {
      instances: 2,
    });
    expect(await waitOperation(follower, scale.id, 'scale to 2')).toMatchObject({ state: 'SUCCEEDED' });
    expect(Object.keys(liveEngines(queryId)).sort()).toEqual([`lead-${suffix}-0`, `lead-${suffix}-1`]);
    expect(engineProcessCount(queryId)).toBe(2);
  });

  it('hand over to the follower when the leader is killed, keeping the running engines', async () => {
    const before = liveEngines(queryId);
    leader.proc.kill('SIGKILL');
    await new Promise((r) => leader.proc.once('exit', r));
    const view = await eventually(
      () => call<ClusterView>(follower, 'GET', '/api/v1/cluster'),
      (v) => v.isLeader,
      15_000,
      'the follower leads within 15 s',
    );
    expect(view.leader).toBe(follower.name);

    // The new leader adopts what runs: same processes, none started twice.
    const scale = await call<{ id: string }>(follower, 'POST', `/api/v1/queries/${queryId}/scale`, {
      instances: 3,
    });
    expect(await waitOperation(follower, scale.id, 'scale to 3 on the new leader')).toMatchObject({
      state: 'SUCCEEDED',
    });
    const after = liveEngines(queryId);
    expect(Object.keys(after).sort()).toEqual([`lead-${suffix}-0`, `lead-${suffix}-1`, `lead-${suffix}-2`]);
    expect(after[`lead-${suffix}-0`]).toBe(before[`lead-${suffix}-0`]);
    expect(after[`lead-${suffix}-1`]).toBe(before[`lead-${suffix}-1`]);
    expect(engineProcessCount(queryId)).toBe(3);
  });
});
