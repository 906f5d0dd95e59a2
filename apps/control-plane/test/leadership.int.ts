// Two control planes on one database and one runtime: exactly one leads (reconciles, runs
// operations, scales), the other serves the API; a deploy asked of the follower runs once, on the
// leader; SIGKILL the leader and the follower takes over (within 15 s), adopting the running
// engines without restarting or duplicating them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiOk,
  engineProcessCount,
  killEngines,
  liveEngines,
  startControlPlane,
  STAND_IN_ENGINE_ENV,
  type ControlPlaneProcess,
} from './support/control-plane-process';
import { electedLeader, followerLeads, operationOutcome } from './support/leadership';
import { createToken, forgetTestQueries } from './support/test-app';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-leadership-'));
const suffix = randomUUID().slice(0, 8);
let token: string;

const replicas: ControlPlaneProcess[] = [];

async function startReplica(name: string): Promise<ControlPlaneProcess> {
  const replica = await startControlPlane({
    name,
    home,
    readyTimeoutMs: 60_000,
    env: {
      ...process.env,
      ...STAND_IN_ENGINE_ENV,
      SLUICE_RECONCILE_INTERVAL_MS: '1000',
      SLUICE_INSTANCE_SETTLE_MS: '1000',
      SLUICE_LEADER_RETRY_MS: '1000',
      LOG_LEVEL: 'warn',
    },
  });
  replicas.push(replica);
  return replica;
}

const call = <T>(r: ControlPlaneProcess, method: string, url: string, body?: unknown) =>
  apiOk<T>(r, token, method, url, body);

const spec = (name: string) =>
  `name: ${name}\nsources:\n  events:\n    kafka: { topic: it-lead-${suffix}, startingOffsets: earliest }\n    format: json\n    schema: { user_id: string, amount: long }\nsql: |\n  SELECT user_id, amount FROM events WHERE amount > 10\nsink:\n  kafka: { topic: it-lead-out-${suffix} }\noutputMode: append\ntrigger: { processingTime: 1 second }\n`;

const waitOperation = (r: ControlPlaneProcess, id: string, what: string) =>
  operationOutcome(r, token, id, what, 90_000);

beforeAll(async () => {
  token = createToken('admin', `leadership-${suffix}`);
  await startReplica(`cp-a-${suffix}`);
  await startReplica(`cp-b-${suffix}`);
});

afterAll(async () => {
  for (const r of replicas) await r.kill();
  killEngines(home);
  await forgetTestQueries(suffix);
});

describe('two control planes', () => {
  let queryId: string;
  let leader: ControlPlaneProcess;
  let follower: ControlPlaneProcess;

  it('elect exactly one leader, and every replica names it', async () => {
    const elected = await electedLeader(replicas, token);
    ({ leader, follower } = elected);
    expect(elected.views.map((v) => v.leader)).toEqual([leader.name, leader.name]);
    expect(new Set(elected.views.map((v) => v.cluster)).size).toBe(1);
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
    expect(Object.keys(liveEngines(home, queryId)).sort()).toEqual([`lead-${suffix}-0`, `lead-${suffix}-1`]);
    expect(engineProcessCount(home, queryId, 'stand-in')).toBe(2);
  });

  it('hand over to the follower when the leader is killed, keeping the running engines', async () => {
    const before = liveEngines(home, queryId);
    await leader.kill();
    const view = await followerLeads(follower, token);
    expect(view.leader).toBe(follower.name);

    // The new leader adopts what runs: same processes, none started twice.
    const scale = await call<{ id: string }>(follower, 'POST', `/api/v1/queries/${queryId}/scale`, {
      instances: 3,
    });
    expect(await waitOperation(follower, scale.id, 'scale to 3 on the new leader')).toMatchObject({
      state: 'SUCCEEDED',
    });
    const after = liveEngines(home, queryId);
    expect(Object.keys(after).sort()).toEqual([`lead-${suffix}-0`, `lead-${suffix}-1`, `lead-${suffix}-2`]);
    expect(after[`lead-${suffix}-0`]).toBe(before[`lead-${suffix}-0`]);
    expect(after[`lead-${suffix}-1`]).toBe(before[`lead-${suffix}-1`]);
    expect(engineProcessCount(home, queryId, 'stand-in')).toBe(3);
  });
});
