// Two control-plane processes of one cluster on the real database: exactly one evaluates the
// alert rules (the leader, holder of the cluster's PostgreSQL advisory lock); the other serves
// the API but never evaluates. SIGKILL the evaluating process and the other takes over.
// "Evaluates" is observed through each process's own /metrics: the evaluation histogram's count
// and the per-query gauges only the evaluator sets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp, type CleanupStep } from './support/cleanup';
import { killEngines, startControlPlane, type ControlPlaneProcess } from './support/control-plane-process';
import { createToken, eventually, forgetTestQueries } from './support/test-app';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-alert-leader-'));
const suffix = randomUUID().slice(0, 8);
const cluster = `it-alert-leader-${suffix}`;
const queryName = `alert-leader-${suffix}`;

const replicas: ControlPlaneProcess[] = [];

async function startReplica(name: string): Promise<ControlPlaneProcess> {
  const replica = await startControlPlane({
    name,
    home,
    env: {
      ...process.env,
      SLUICE_CLUSTER_NAME: cluster,
      SLUICE_LEADER_RETRY_MS: '500',
      SLUICE_ALERT_EVAL_INTERVAL_MS: '300',
      SLUICE_METRICS_ACCESS: 'open',
      LOG_LEVEL: 'warn',
    },
  });
  replicas.push(replica);
  return replica;
}

/** Evaluations this process ran, and whether it exports the per-query gauge of our query. */
async function evaluations(r: ControlPlaneProcess): Promise<{ count: number; seesQuery: boolean }> {
  const text = await (await fetch(`${r.base}/metrics`)).text();
  const m = /^sluice_alert_evaluation_duration_seconds_count (\d+)$/m.exec(text);
  return {
    count: m ? Number(m[1]) : 0,
    seesQuery: text.includes(`sluice_query_phase{query="${queryName}",phase="PENDING"}`),
  };
}

afterAll(async () => {
  // Engines first (SIGKILL of a replica leaves its detached engines running), every step bounded
  // (support/cleanup.ts), and engines again after the replicas are gone.
  killEngines(home);
  await cleanUp([
    ...replicas.map((r): CleanupStep => [`kill replica ${r.name}`, () => r.kill()]),
    ['kill engines started meanwhile', () => killEngines(home)],
    ['forget the queries', () => forgetTestQueries(suffix)],
  ]);
});

describe('alert evaluation with two control planes', () => {
  it('exactly one process evaluates; after SIGKILL of it the other takes over', async () => {
    const [a, b] = [await startReplica(`alert-a-${suffix}`), await startReplica(`alert-b-${suffix}`)];
    const token = createToken('admin', `it-alert-leader-${suffix}`);
    const spec = [
      `name: ${queryName}`,
      'sources:',
      '  events:',
      `    kafka: { topic: it-alert-leader-${suffix}, startingOffsets: earliest }`,
      '    format: json',
      '    schema: { user_id: string }',
      'sql: SELECT user_id FROM events',
      'sink:',
      `  kafka: { topic: it-alert-leader-out-${suffix} }`,
      '',
    ].join('\n');
    const created = await fetch(`${b.base}/api/v1/queries?deploy=false`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/yaml' },
      body: spec,
    });
    expect(created.status).toBe(201);

    // Several evaluation intervals: one process evaluates (and sees the query), the other never.
    const settled = await eventually(
      () => Promise.all([evaluations(a), evaluations(b)]),
      ([x, y]) => (x.seesQuery || y.seesQuery) && Math.max(x.count, y.count) >= 10,
      60_000,
      'evaluations',
    );
    const leaderIndex = settled[0].count > 0 ? 0 : 1;
    const leader = [a, b][leaderIndex]!;
    const follower = [a, b][1 - leaderIndex]!;
    const again = [await evaluations(a), await evaluations(b)];
    expect(again[1 - leaderIndex]).toEqual({ count: 0, seesQuery: false });
    expect(again[leaderIndex]!.seesQuery).toBe(true);

    await leader.kill();
    const took = await eventually(
      () => evaluations(follower),
      (e) => e.count >= 3 && e.seesQuery,
      30_000,
      'the other process evaluating',
    );
    expect(took.seesQuery).toBe(true);
  }, 240_000);
});
