// Two clusters on ONE database and one Redis (real PostgreSQL, Redis, Kafka; two control-plane
// processes, each with its own cluster name and local runtime home). Each deploys a query; neither
// starts, stops or reconciles the other's: each lists only its own, refuses a change of the other's
// (409 naming the owner), runs only its own operations (separate queue prefixes on one Redis);
// and once one cluster's control plane is killed, the other still leaves its query alone. Alerting
// follows the same ownership: each leader evaluates only its own cluster's queries, also for a rule
// with no cluster (observed through each process's /metrics and the alerts a shared rule raises),
// and each leader routes only its own cluster's alerts: with the same receivers, one notification
// per group reaches a loopback receiver, not one from each leader.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiCall,
  engineProcessCount,
  killEngines,
  liveEngines,
  startControlPlane,
  STAND_IN_ENGINE_ENV,
  type ControlPlaneProcess,
} from './support/control-plane-process';
import { eventually } from './support/test-app';
import { isolatedStack, type IsolatedStack } from './upgrade-support';
import { LoopbackReceiver } from './support/loopback-receiver';
import { REDIS_INDEXES } from './support/redis-indexes';

const suffix = randomUUID().slice(0, 8);
let stack: IsolatedStack;
let token: string;
const homes: string[] = [];
const planes: ControlPlaneProcess[] = [];

interface QueryView {
  id: string;
  name: string;
  cluster: string | null;
  phase: string;
  instances: Array<{ name: string; status: string; ref: string | null }>;
}

async function startCluster(cluster: string): Promise<{ cp: ControlPlaneProcess; home: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-${cluster}-`));
  homes.push(home);
  const cp = await startControlPlane({
    home,
    name: `${cluster}-0`,
    readyTimeoutMs: 90_000,
    env: {
      ...process.env,
      ...stack.env,
      ...STAND_IN_ENGINE_ENV,
      SLUICE_CLUSTER_NAME: cluster,
      SLUICE_RECONCILE_INTERVAL_MS: '1000',
      SLUICE_INSTANCE_SETTLE_MS: '1000',
      SLUICE_LEADER_RETRY_MS: '1000',
      SLUICE_ALERT_EVAL_INTERVAL_MS: '500',
      SLUICE_METRICS_ACCESS: 'open',
      // Both leaders can send (a signing key) to the test's loopback receivers.
      SLUICE_ALERT_SIGNING_KEY: `it-signing-key-${suffix}-0123456789abcdef`,
      SLUICE_ALERT_RECEIVER_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
  });
  planes.push(cp);
  return { cp, home };
}

async function call<T>(cp: ControlPlaneProcess, method: string, url: string, body?: unknown) {
  return apiCall<T>(cp.base, token, method, url, body);
}

async function ok<T>(cp: ControlPlaneProcess, method: string, url: string, body?: unknown): Promise<T> {
  const res = await call<T>(cp, method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const spec = (name: string) =>
  `name: ${name}\nsources:\n  events:\n    kafka: { topic: it-own-${suffix}, startingOffsets: earliest }\n    format: json\n    schema: { user_id: string, amount: long }\nsql: |\n  SELECT user_id, amount FROM events WHERE amount > 10\nsink:\n  kafka: { topic: it-own-out-${suffix} }\noutputMode: append\ntrigger: { processingTime: 1 second }\n`;

async function waitOperation(cp: ControlPlaneProcess, id: string, what: string): Promise<{ state: string }> {
  return eventually(
    () => ok<{ state: string; error: string | null }>(cp, 'GET', `/api/v1/operations/${id}`),
    (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
    120_000,
    what,
  );
}

/** Evaluations this process ran, and which of `names` it exports a per-query gauge for. */
async function evaluated(
  cp: ControlPlaneProcess,
  names: string[],
): Promise<{ count: number; sees: string[] }> {
  const text = await (await fetch(`${cp.base}/metrics`)).text();
  const m = /^sluice_alert_evaluation_duration_seconds_count (\d+)$/m.exec(text);
  return {
    count: m ? Number(m[1]) : 0,
    sees: names.filter((n) => text.includes(`sluice_query_phase{query="${n}",`)),
  };
}

/** Deploys a query whose stand-in engine exits at once, and waits until it reads FAILED. */
async function failedQuery(cp: ControlPlaneProcess, name: string): Promise<string> {
  const created = await ok<{ id: string }>(cp, 'POST', '/api/v1/queries', spec(name));
  await eventually(
    () => ok<QueryView>(cp, 'GET', `/api/v1/queries/${created.id}`),
    (q) => q.phase === 'FAILED',
    120_000,
    `${name} FAILED`,
  );
  return created.id;
}

const east = `east-${suffix}`;
const west = `west-${suffix}`;
let a: { cp: ControlPlaneProcess; home: string };
let b: { cp: ControlPlaneProcess; home: string };

beforeAll(async () => {
  // A database and Redis index of their own: a control plane of this branch on the shared one
  // would adopt (and run) queries other suites left there without a cluster.
  stack = await isolatedStack('sluice_it_ownership', REDIS_INDEXES.clusterOwnership);
  token = stack.token('admin', `ownership-${suffix}`);
  a = await startCluster(east);
  b = await startCluster(west);
}, 240_000);

const hooks: LoopbackReceiver<Notification>[] = [];
interface Notification {
  status: string;
  groupLabels: { query: string };
  alerts: Array<{ labels: Record<string, string> }>;
}

/** A loopback receiver, and a receiver row routing every alert to it at once (group_wait 0). */
async function hookReceiver(cp: ControlPlaneProcess, name: string): Promise<LoopbackReceiver<Notification>> {
  const hook = new LoopbackReceiver<Notification>();
  await hook.start();
  hooks.push(hook);
  await ok(cp, 'POST', '/api/v1/receivers', {
    name,
    kind: 'webhook',
    url: `http://127.0.0.1:${hook.port}/alerts`,
    groupWaitSeconds: 0,
    groupIntervalSeconds: 1,
    repeatIntervalSeconds: 3600,
  });
  return hook;
}

/** The queries of the notifications a receiver got, in order of arrival. */
const notified = (hook: LoopbackReceiver<Notification>) => hook.received.map((r) => r.json.groupLabels.query);

/** Waits until each control plane ran `passes` more evaluations. */
async function morePasses(cps: ControlPlaneProcess[], passes: number): Promise<void> {
  const from = await Promise.all(cps.map((cp) => evaluated(cp, []).then((e) => e.count)));
  await eventually(
    () => Promise.all(cps.map((cp) => evaluated(cp, []))),
    (es) => es.every((e, i) => e.count >= from[i]! + passes),
    60_000,
    `${passes} more evaluations`,
  );
}

afterAll(async () => {
  for (const hook of hooks) await hook.stop();
  for (const cp of planes) await cp.kill();
  for (const home of homes) killEngines(home);
  await stack?.drop();
});

describe('queries owned by a cluster, two clusters on one database', () => {
  let qa: string;
  let qb: string;
  // A crash-looping (so FAILED) query in each cluster: what the shared alert rule below fires on.
  const failedA = `crashloop-a-${suffix}`;
  const failedB = `crashloop-b-${suffix}`;
  let fa: string;
  let fb: string;

  it('each cluster runs the query deployed through it, in its own runtime only', async () => {
    const ca = await ok<{ id: string; operation: { id: string } }>(
      a.cp,
      'POST',
      '/api/v1/queries',
      spec(`own-a-${suffix}`),
    );
    const cb = await ok<{ id: string; operation: { id: string } }>(
      b.cp,
      'POST',
      '/api/v1/queries',
      spec(`own-b-${suffix}`),
    );
    qa = ca.id;
    qb = cb.id;
    expect(await waitOperation(a.cp, ca.operation.id, 'deploy on east')).toMatchObject({
      state: 'SUCCEEDED',
    });
    expect(await waitOperation(b.cp, cb.operation.id, 'deploy on west')).toMatchObject({
      state: 'SUCCEEDED',
    });

    expect(Object.keys(liveEngines(a.home, qa))).toEqual([`own-a-${suffix}-0`]);
    expect(Object.keys(liveEngines(b.home, qb))).toEqual([`own-b-${suffix}-0`]);
    // Neither started the other's query in its runtime.
    expect(liveEngines(a.home, qb)).toEqual({});
    expect(liveEngines(b.home, qa)).toEqual({});
    expect(engineProcessCount(a.home, qb, 'stand-in')).toBe(0);
    expect(engineProcessCount(b.home, qa, 'stand-in')).toBe(0);

    const viewA = await ok<QueryView>(a.cp, 'GET', `/api/v1/queries/${qa}`);
    const viewB = await ok<QueryView>(b.cp, 'GET', `/api/v1/queries/${qb}`);
    expect(viewA.cluster).toBe(east);
    expect(viewB.cluster).toBe(west);
    // One instance row each, in its own runtime (no pod ref or second row written by the other).
    expect(viewA.instances.map((i) => i.name)).toEqual([`own-a-${suffix}-0`]);
    expect(viewB.instances.map((i) => i.name)).toEqual([`own-b-${suffix}-0`]);
  }, 300_000);

  it("lists only its own queries, shows the other's read-only and refuses to change it (409 naming the owner)", async () => {
    const listA = await ok<QueryView[]>(a.cp, 'GET', '/api/v1/queries');
    expect(listA.map((q) => q.id)).toContain(qa);
    expect(listA.map((q) => q.id)).not.toContain(qb);

    const theirs = await ok<QueryView>(a.cp, 'GET', `/api/v1/queries/${qb}`);
    expect(theirs.cluster).toBe(west);

    for (const [method, url, body] of [
      ['POST', `/api/v1/queries/${qb}/stop`, undefined],
      ['POST', `/api/v1/queries/${qb}/scale`, { instances: 2 }],
      ['DELETE', `/api/v1/queries/${qb}`, undefined],
    ] as const) {
      const res = await call<{ code: string; message: string; cluster: string }>(a.cp, method, url, body);
      expect(res.status, `${method} ${url}`).toBe(409);
      expect(res.body).toMatchObject({ code: 'QUERY_OF_OTHER_CLUSTER', cluster: west });
      expect(res.body.message).toContain(`"${west}"`);
    }
    // A name is unique across the clusters of one database: the conflict names the owner.
    const dup = await call<{ message: string }>(a.cp, 'POST', '/api/v1/queries', spec(`own-b-${suffix}`));
    expect(dup.status).toBe(409);
    expect(dup.body.message).toContain(west);

    // The refused changes changed nothing: west's query still runs the same engine.
    const view = await ok<QueryView>(b.cp, 'GET', `/api/v1/queries/${qb}`);
    expect(view.phase).toBe('RUNNING');
    expect(Object.keys(liveEngines(b.home, qb))).toEqual([`own-b-${suffix}-0`]);
  }, 120_000);

  it("each cluster's leader evaluates only its own cluster's queries", async () => {
    [fa, fb] = await Promise.all([failedQuery(a.cp, failedA), failedQuery(b.cp, failedB)]);
    const ownA = `own-a-${suffix}`;
    const ownB = `own-b-${suffix}`;
    const all = [ownA, ownB, failedA, failedB];
    // Both leaders evaluate (several passes each) and each exports gauges for its own queries only.
    const [ea, eb] = await eventually(
      () => Promise.all([evaluated(a.cp, all), evaluated(b.cp, all)]),
      ([x, y]) => x.count >= 5 && y.count >= 5 && x.sees.length === 2 && y.sees.length === 2,
      60_000,
      'both leaders evaluating their own queries',
    );
    expect(ea.sees).toEqual([ownA, failedA]);
    expect(eb.sees).toEqual([ownB, failedB]);
  }, 300_000);

  it("with the same receiver, each group is notified once: by its own cluster's leader only", async () => {
    const rule = (c: string) => ({
      name: `${c.split('-')[0]}_failed_${suffix.replace(/-/g, '_')}`,
      kind: 'queryHealth',
      params: { check: 'failed' },
      forSeconds: 0,
      severity: 'warning',
      annotations: { summary: '{{ $labels.query }} failed' },
      queries: [c === east ? failedA : failedB],
      cluster: c,
    });
    await ok(a.cp, 'POST', '/api/v1/alert-rules', rule(east));
    await ok(b.cp, 'POST', '/api/v1/alert-rules', rule(west));
    // Every alert of the two groups fires before the receiver exists (the default rules' too: the
    // queries went FAILED earlier), so each group's content is settled and one notification each
    // is the right answer. A receiver created first could see a group before this rule's alert
    // joined it, and then a second, different notification for that group is correct (CI caught
    // exactly that race once under load).
    type AlertView = { rule: string; queryId: string; state: string };
    await eventually(
      () => ok<AlertView[]>(a.cp, 'GET', '/api/v1/alerts?state=firing'),
      (list) =>
        list.some((x) => x.rule === rule(east).name && x.queryId === fa) &&
        list.some((x) => x.rule === rule(west).name && x.queryId === fb),
      60_000,
      "both rules' alerts firing",
    );
    const hook = await hookReceiver(a.cp, `both-${suffix}`);
    await eventually(
      async () => notified(hook),
      (qs) => qs.includes(failedA) && qs.includes(failedB),
      60_000,
      'a notification for each cluster',
    );
    // Both leaders route on every pass (500 ms): ten more passes each, and still one per group
    // (a leader routing the other cluster's groups too would have sent each group twice).
    await morePasses([a.cp, b.cp], 10);
    expect(notified(hook).sort()).toEqual([failedA, failedB].sort());
  }, 180_000);

  it("after west's control plane is killed, east still leaves west's query alone", async () => {
    const westEngine = liveEngines(b.home, qb);
    const westRow = await ok<QueryView>(a.cp, 'GET', `/api/v1/queries/${qb}`);
    await b.cp.kill();

    // East keeps reconciling its own query (stop, then start again: two operations, each needing
    // several resyncs); by then it has had every chance to touch west's.
    const stop = await ok<{ id: string }>(a.cp, 'POST', `/api/v1/queries/${qa}/stop`);
    expect(await waitOperation(a.cp, stop.id, 'stop on east')).toMatchObject({ state: 'SUCCEEDED' });
    expect(liveEngines(a.home, qa)).toEqual({});
    const start = await ok<{ id: string }>(a.cp, 'POST', `/api/v1/queries/${qa}/start`);
    expect(await waitOperation(a.cp, start.id, 'start on east')).toMatchObject({ state: 'SUCCEEDED' });
    await eventually(
      () => ok<QueryView>(a.cp, 'GET', `/api/v1/queries/${qa}`),
      (q) => q.phase === 'RUNNING',
      60_000,
      'east query RUNNING again',
    );

    // West's engine was neither stopped nor duplicated, nothing of it started in east's runtime,
    // and its row is as west last wrote it.
    expect(liveEngines(b.home, qb)).toEqual(westEngine);
    expect(engineProcessCount(b.home, qb, 'stand-in')).toBe(1);
    expect(liveEngines(a.home, qb)).toEqual({});
    expect(engineProcessCount(a.home, qb, 'stand-in')).toBe(0);
    const after = await ok<QueryView>(a.cp, 'GET', `/api/v1/queries/${qb}`);
    expect(after.cluster).toBe(west);
    const shape = (q: QueryView) => q.instances.map((i) => ({ name: i.name, status: i.status, ref: i.ref }));
    expect(shape(after)).toEqual(shape(westRow));
    expect(after.phase).toBe(westRow.phase);
  }, 300_000);

  it("a rule with no cluster fires on the evaluating cluster's queries only", async () => {
    // West's control plane is gone (previous test): only east evaluates. West's failed query is
    // live, FAILED and matched by the rule, so only ownership keeps east from raising its alert.
    const theirs = await ok<QueryView>(a.cp, 'GET', `/api/v1/queries/${fb}`);
    expect(theirs).toMatchObject({ cluster: west, phase: 'FAILED' });
    const rule = `shared_failed_${suffix.replace(/-/g, '_')}`;
    const created = await call(a.cp, 'POST', '/api/v1/alert-rules', {
      name: rule,
      kind: 'queryHealth',
      params: { check: 'failed' },
      forSeconds: 0,
      severity: 'warning',
      annotations: { summary: '{{ $labels.query }} failed' },
      queries: [failedA, failedB],
      cluster: null,
    });
    expect(created.status).toBe(201);
    type AlertView = { rule: string; queryId: string; state: string };
    const ofRule = async () =>
      (await ok<AlertView[]>(a.cp, 'GET', '/api/v1/alerts')).filter((x) => x.rule === rule);
    await eventually(
      ofRule,
      (list) => list.some((x) => x.queryId === fa && x.state === 'firing'),
      60_000,
      'east alert',
    );
    // Ten more passes of east's evaluation: still no alert on west's query.
    const from = (await evaluated(a.cp, [])).count;
    await eventually(
      () => evaluated(a.cp, []),
      (e) => e.count >= from + 10,
      60_000,
      'ten more evaluations',
    );
    const alerts = await ofRule();
    expect(alerts.map((x) => x.queryId)).toEqual([fa]);
  }, 180_000);

  it("a new receiver gets east's alerts only, though west's alert still fires and west is gone", async () => {
    // West's alert on its failed query stays firing (nobody evaluates it any more) and matches the
    // new receiver: a leader routing every cluster's alerts would send it from east.
    const westAlert = (
      await ok<Array<{ queryId: string; state: string }>>(a.cp, 'GET', '/api/v1/alerts')
    ).find((x) => x.queryId === fb);
    expect(westAlert?.state).toBe('firing');
    const hook = await hookReceiver(a.cp, `after-${suffix}`);
    await eventually(
      async () => notified(hook),
      (qs) => qs.includes(failedA),
      60_000,
      "east's notification",
    );
    await morePasses([a.cp], 10);
    expect(notified(hook)).toEqual([failedA]);
  }, 180_000);
});
