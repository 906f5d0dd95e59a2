// KubernetesRuntime for real: a control-plane process (SLUICE_RUNTIME=kubernetes) pointed at the
// local Kubernetes API server (the stack's `kube` component, kwok simulating the node), driven
// through its HTTP API: deploy, scale 1 → 3 → 1, per-query CPU limits on the pods, deploy a new
// version, a crash loop, delete.
//
// What "RUNNING" means here: kwok marks the engine pods Running and Ready, but no container runs in
// them (no engine, no progress, nothing may connect to them). So a query reads RUNNING when every
// desired pod of the desired version is Running in the API server and has stayed so for the settle
// time; that is what the runtime reports, and what this file asserts. A crash is simulated by
// patching a pod's status through the API server to what a kubelet reports for a container in
// CrashLoopBackOff (waiting CrashLoopBackOff, last state terminated with exit code 1 and the
// engine's error line as termination message).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeCluster } from '../../../scripts/test/kube-cluster';
import {
  startKubeSuite,
  stopKubeSuite,
  TEST_ENGINE_IMAGE as IMAGE,
  type KubeControlPlane,
} from './support/kube-control-plane';
import { apiOk } from './support/control-plane-process';
import { operationOutcome } from './support/leadership';
import { eventsSpec, eventually } from './support/test-app';
import type { IsolatedStack } from './upgrade-support';
import { REDIS_INDEXES } from './support/redis-indexes';

interface Pod {
  metadata: {
    name: string;
    uid: string;
    labels: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec: {
    containers: {
      name: string;
      args: string[];
      resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    }[];
  };
  status: { phase?: string };
}
interface List<T> {
  items: T[];
}
interface QueryView {
  id: string;
  phase: string;
  desired: { version: number; instances: number };
  conditions: { type: string; status: string; reason: string; message: string }[];
  instances: {
    name: string;
    status: string;
    runtime: string;
    ref: string | null;
    cpuLimit?: { requested: number | null; applied: boolean; reason?: string } | null;
  }[];
}

const suffix = randomUUID().slice(0, 8);
const NS = `kr-${suffix}`;
const QUERY = `kr-${suffix}`;
const SET = `sluice-${QUERY}`;
let kube: KubeCluster;
let token: string;
let stack: IsolatedStack | undefined;
let cp: KubeControlPlane;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kube-runtime-'));

const call = <T>(method: string, url: string, body?: unknown) => apiOk<T>(cp, token, method, url, body);

async function waitOperation(id: string, what: string): Promise<{ state: string; error: string | null }> {
  const op = await operationOutcome(cp, token, id, what, 150_000);
  // A failed operation's steps say why; the assertion's diff alone would hide them.
  if (op.state === 'FAILED') console.error(`${what} failed:`, JSON.stringify(op));
  return op;
}

async function pods(queryId: string): Promise<Pod[]> {
  const r = await kube.kubeFetch<List<Pod>>(
    'GET',
    `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`sluice.dev/query-id=${queryId}`)}`,
  );
  expect(r.status).toBe(200);
  return r.body.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
const live = (ps: Pod[]) => ps.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');

async function get<T>(p: string): Promise<{ status: number; body: T }> {
  return kube.kubeFetch<T>('GET', p);
}

beforeAll(
  async () => {
    // A database and Redis index of its own: a control plane on the shared database (another
    // suite's, or a developer's) reconciles every query there and would start local engines for
    // this one, whose phase it then writes (seen in CI: a scale-in FAILED).
    ({ kube, stack, token, cp } = await startKubeSuite({
      namespace: NS,
      database: 'sluice_it_kube_runtime',
      redisIndex: REDIS_INDEXES.kubernetesRuntime,
      tokenName: `kube-runtime-${suffix}`,
      cpName: `cp-${suffix}`,
      home,
    }));
  },
  60 * 60 * 1000,
);

afterAll(async () => {
  await stopKubeSuite({ cp, kube, stack }, NS);
});

describe('KubernetesRuntime against a real API server', () => {
  let queryId: string;

  it('deploys: a StatefulSet, a ConfigMap of version 1, a headless Service; the pod Running makes the query RUNNING', async () => {
    const created = await call<{ id: string; operation: { id: string } }>(
      'POST',
      '/api/v1/queries',
      eventsSpec(QUERY, `it-kr-${suffix}`, `it-kr-out-${suffix}`),
    );
    queryId = created.id;
    expect(await waitOperation(created.operation.id, 'deploy')).toMatchObject({ state: 'SUCCEEDED' });

    const sts = await get<{
      spec: {
        replicas: number;
        serviceName: string;
        template: { spec: { containers: { image: string }[] } };
      };
    }>(`/apis/apps/v1/namespaces/${NS}/statefulsets/${SET}`);
    expect(sts.status).toBe(200);
    expect(sts.body.spec.replicas).toBe(1);
    expect(sts.body.spec.template.spec.containers[0]!.image).toBe(IMAGE);
    const cm = await get<{ data: Record<string, string> }>(`/api/v1/namespaces/${NS}/configmaps/${SET}-v1`);
    expect(cm.status).toBe(200);
    expect(cm.body.data['spec.yaml']).toContain(`name: ${QUERY}`);
    const svc = await get<{ spec: { clusterIP: string } }>(`/api/v1/namespaces/${NS}/services/${SET}`);
    expect(svc.body.spec.clusterIP).toBe('None');

    const [pod] = live(await pods(queryId));
    expect(pod?.metadata.name).toBe(`${SET}-0`);
    // The engine's instance id is the control plane's `<query>-<n>`: the arg references the pod's
    // ordinal label, which the StatefulSet controller set to 0.
    const args = pod!.spec.containers[0]!.args;
    expect(args[args.indexOf('--instance-id') + 1]).toBe(`${QUERY}-$(POD_INDEX)`);
    expect(pod!.metadata.labels['apps.kubernetes.io/pod-index']).toBe('0');

    const q = await call<QueryView>('GET', `/api/v1/queries/${queryId}`);
    expect(q.phase).toBe('RUNNING');
    expect(q.instances.map((i) => [i.name, i.status, i.runtime, i.ref])).toEqual([
      [`${QUERY}-0`, 'RUNNING', 'kubernetes', `pod:${SET}-0`],
    ]);
  });

  it('scales 1 → 3 → 1 through the StatefulSet', async () => {
    const up = await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 3 });
    expect(await waitOperation(up.id, 'scale to 3')).toMatchObject({ state: 'SUCCEEDED' });
    expect(
      live(await pods(queryId)).map((p) => [
        p.metadata.name,
        p.metadata.labels['apps.kubernetes.io/pod-index'],
      ]),
    ).toEqual([
      [`${SET}-0`, '0'],
      [`${SET}-1`, '1'],
      [`${SET}-2`, '2'],
    ]);
    const three = await call<QueryView>('GET', `/api/v1/queries/${queryId}`);
    expect(three.phase).toBe('RUNNING');
    expect(three.instances.map((i) => i.name).sort()).toEqual([`${QUERY}-0`, `${QUERY}-1`, `${QUERY}-2`]);

    const down = await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 1 });
    expect(await waitOperation(down.id, 'scale to 1')).toMatchObject({ state: 'SUCCEEDED' });
    const sts = await get<{ spec: { replicas: number } }>(
      `/apis/apps/v1/namespaces/${NS}/statefulsets/${SET}`,
    );
    expect(sts.body.spec.replicas).toBe(1);
    await eventually(
      () => pods(queryId),
      (ps) => ps.length === 1,
      60_000,
      'scaled-in pods gone',
    );
    // The drained instances' rows go once their pods are gone (the reconciler's next pass).
    const one = await eventually(
      () => call<QueryView>('GET', `/api/v1/queries/${queryId}`),
      (v) => v.instances.length === 1,
      30_000,
      'only instance 0 left',
    );
    expect(one.phase).toBe('RUNNING');
    expect(one.instances.map((i) => [i.name, i.status])).toEqual([[`${QUERY}-0`, 'RUNNING']]);
  });

  it("applies the query's cpuLimit to the engine pods: the template, new pods, running pods in place", async () => {
    const podNamed = async (name: string) => (await pods(queryId)).find((p) => p.metadata.name === name);
    const resources = async (name: string) => (await podNamed(name))?.spec.containers[0]?.resources;
    // Pod 0 runs without a limit: Kubernetes refuses to add one in place (it would change the
    // pod's QoS class), so the instance view says the limit waits for the pod to be replaced.
    const set = await call<{ cpuLimit: number | null }>('POST', `/api/v1/queries/${queryId}/scaling`, {
      cpuLimit: 0.25,
    });
    expect(set.cpuLimit).toBe(0.25);
    const pending = await eventually(
      () => call<QueryView>('GET', `/api/v1/queries/${queryId}`),
      (v) => v.instances[0]?.cpuLimit?.requested === 0.25,
      30_000,
      'cpu limit shown on instance 0',
    );
    expect(pending.instances[0]?.cpuLimit).toMatchObject({ requested: 0.25, applied: false });
    expect(pending.instances[0]?.cpuLimit?.reason).toMatch(/no CPU limit until it is replaced/);
    expect((await resources(`${SET}-0`))?.limits?.cpu).toBeUndefined();
    const sts = await get<{
      spec: { template: { spec: { containers: { resources?: Record<string, Record<string, string>> }[] } } };
    }>(`/apis/apps/v1/namespaces/${NS}/statefulsets/${SET}`);
    expect(sts.body.spec.template.spec.containers[0]?.resources).toMatchObject({
      requests: { cpu: '250m' },
      limits: { cpu: '250m' },
    });

    // A new pod is created from the template with the limit (read back from the API server).
    const up = await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 2 });
    expect(await waitOperation(up.id, 'scale to 2')).toMatchObject({ state: 'SUCCEEDED' });
    expect(await resources(`${SET}-1`)).toMatchObject({ requests: { cpu: '250m' }, limits: { cpu: '250m' } });
    await eventually(
      () => call<QueryView>('GET', `/api/v1/queries/${queryId}`),
      (v) => v.instances.find((i) => i.name === `${QUERY}-1`)?.cpuLimit?.applied === true,
      30_000,
      'instance 1 limited',
    );

    // A changed limit goes to a limited pod in place, through its resize subresource. The API
    // server accepts a resize only for a pod whose kubelet reports the resources it applied
    // (containerStatuses[].resources, a kubelet ≥ 1.35); kwok reports none, so the first change
    // is refused and shown as waiting for the pod to be replaced...
    const uid = (await podNamed(`${SET}-1`))?.metadata.uid;
    await call('POST', `/api/v1/queries/${queryId}/scaling`, { cpuLimit: 0.5 });
    const refused = await eventually(
      () => call<QueryView>('GET', `/api/v1/queries/${queryId}`),
      (v) => v.instances.find((i) => i.name === `${QUERY}-1`)?.cpuLimit?.requested === 0.5,
      30_000,
      'instance 1 shows the refused resize',
    );
    expect(refused.instances.find((i) => i.name === `${QUERY}-1`)?.cpuLimit).toMatchObject({
      applied: false,
      reason: expect.stringMatching(
        /a CPU limit of 0\.25 until it is replaced: .*without support for resize/,
      ),
    });
    expect((await resources(`${SET}-1`))?.limits?.cpu).toBe('250m');
    // ...then the pod's status says what a resize-capable kubelet says, and the next change is
    // made in place: same pod, new limit.
    const patched = await kube.kubeFetch(
      'PATCH',
      `/api/v1/namespaces/${NS}/pods/${SET}-1/status`,
      {
        status: {
          containerStatuses: [
            { name: 'engine', resources: { requests: { cpu: '250m' }, limits: { cpu: '250m' } } },
          ],
        },
      },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    expect(patched.status).toBe(200);
    await call('POST', `/api/v1/queries/${queryId}/scaling`, { cpuLimit: 0.75 });
    const resized = await eventually(
      () => resources(`${SET}-1`),
      (r) => r?.limits?.cpu === '750m',
      30_000,
      'pod 1 resized in place',
    );
    expect(resized).toMatchObject({ requests: { cpu: '750m' }, limits: { cpu: '750m' } });
    expect((await podNamed(`${SET}-1`))?.metadata.uid).toBe(uid);
    const view = await eventually(
      () => call<QueryView>('GET', `/api/v1/queries/${queryId}`),
      (v) => v.instances.every((i) => i.cpuLimit?.requested === 0.75),
      30_000,
      'cpu limit 0.75 on both instances',
    );
    expect(view.instances.map((i) => [i.name, i.cpuLimit?.applied])).toEqual([
      [`${QUERY}-0`, false],
      [`${QUERY}-1`, true],
    ]);

    // Back to unlimited and one instance, as the next tests expect.
    await call('POST', `/api/v1/queries/${queryId}/scaling`, { cpuLimit: null });
    const down = await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 1 });
    expect(await waitOperation(down.id, 'scale to 1')).toMatchObject({ state: 'SUCCEEDED' });
  });

  it('deploys version 2: a new ConfigMap, every old pod gone before a new one runs', async () => {
    const scale = await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 2 });
    expect(await waitOperation(scale.id, 'scale to 2')).toMatchObject({ state: 'SUCCEEDED' });
    const before = live(await pods(queryId));
    expect(before.map((p) => p.metadata.labels['sluice.dev/version'])).toEqual(['1', '1']);

    const spec2 = eventsSpec(QUERY, `it-kr-${suffix}`, `it-kr-out-${suffix}`).replace(
      'amount > 10',
      'amount > 20',
    );
    const v = await call<{ version: number }>('POST', `/api/v1/queries/${queryId}/versions`, spec2);
    expect(v.version).toBe(2);
    const deploy = await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/deploy`, { version: 2 });
    // Sample the pods while the deploy runs: never a version-1 and a version-2 pod running together.
    const mixed: string[] = [];
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const running = live(await pods(queryId)).map((p) => p.metadata.labels['sluice.dev/version']);
        if (running.includes('1') && running.includes('2')) mixed.push(running.join(','));
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const result = await waitOperation(deploy.id, 'deploy version 2');
    done = true;
    await sampler;
    expect(result).toMatchObject({ state: 'SUCCEEDED' });
    expect(mixed).toEqual([]);

    const after = live(await pods(queryId));
    expect(after.map((p) => [p.metadata.name, p.metadata.labels['sluice.dev/version']])).toEqual([
      [`${SET}-0`, '2'],
      [`${SET}-1`, '2'],
    ]);
    // Replaced, not relabelled: new pods.
    for (const p of after) expect(before.map((b) => b.metadata.uid)).not.toContain(p.metadata.uid);
    const cm2 = await get<{ data: Record<string, string> }>(`/api/v1/namespaces/${NS}/configmaps/${SET}-v2`);
    expect(cm2.body.data['spec.yaml']).toContain('amount > 20');
    // The old version's ConfigMap stays until the query is deleted (a rollback needs it).
    expect((await get(`/api/v1/namespaces/${NS}/configmaps/${SET}-v1`)).status).toBe(200);
    const q = await eventually(
      () => call<QueryView>('GET', `/api/v1/queries/${queryId}`),
      (v) => v.instances.length === 2,
      30_000,
      'two instances',
    );
    expect(q.phase).toBe('RUNNING');
    expect(q.desired.version).toBe(2);
    expect(q.instances.map((i) => [i.name, i.status])).toEqual([
      [`${QUERY}-0`, 'RUNNING'],
      [`${QUERY}-1`, 'RUNNING'],
    ]);
  });

  it('marks the query FAILED after the crash policy when its pod stays in CrashLoopBackOff', async () => {
    const scale = await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 1 });
    expect(await waitOperation(scale.id, 'scale to 1')).toMatchObject({ state: 'SUCCEEDED' });
    const crashed = new Set<string>();
    // Every new incarnation of pod 0 crash-loops, until the control plane gives up (5 crashes in
    // 10 minutes, restarts with backoff in between: the reconciler's crash policy).
    const q = await eventually(
      async () => {
        const [pod] = live(await pods(queryId));
        if (pod && !crashed.has(pod.metadata.uid)) {
          const now = new Date().toISOString();
          const r = await kube.kubeFetch(
            'PATCH',
            `/api/v1/namespaces/${NS}/pods/${pod.metadata.name}/status`,
            {
              status: {
                conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }],
                containerStatuses: [
                  {
                    name: 'engine',
                    image: IMAGE,
                    imageID: '',
                    ready: false,
                    restartCount: 3,
                    state: {
                      waiting: {
                        reason: 'CrashLoopBackOff',
                        message: 'back-off 40s restarting failed container',
                      },
                    },
                    lastState: {
                      terminated: {
                        exitCode: 1,
                        reason: 'Error',
                        message: 'engine: sink topic is not writable\n',
                        startedAt: now,
                        finishedAt: now,
                      },
                    },
                  },
                ],
              },
            },
            { contentType: 'application/merge-patch+json' },
          );
          expect(r.status).toBe(200);
          crashed.add(pod.metadata.uid);
        }
        return call<QueryView>('GET', `/api/v1/queries/${queryId}`);
      },
      (view) => view.phase === 'FAILED',
      120_000,
      'query FAILED after repeated CrashLoopBackOff',
    );
    expect(crashed.size).toBeGreaterThanOrEqual(5);
    const degraded = q.conditions.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'CrashLoop' });
    expect(degraded?.message).toContain('engine: sink topic is not writable');
    // Restarts stopped: the last crashed pod is left as it is (no new incarnation).
    const uids = (await pods(queryId)).map((p) => p.metadata.uid);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await pods(queryId)).map((p) => p.metadata.uid)).toEqual(uids);
  });

  it('deletes the query: StatefulSet, Service, ConfigMaps and pods gone', async () => {
    const del = await call<{ id: string }>('DELETE', `/api/v1/queries/${queryId}`);
    expect(await waitOperation(del.id, 'delete')).toMatchObject({ state: 'SUCCEEDED' });
    const sel = `labelSelector=${encodeURIComponent(`sluice.dev/query-id=${queryId}`)}`;
    for (const p of [
      `/apis/apps/v1/namespaces/${NS}/statefulsets`,
      `/api/v1/namespaces/${NS}/services`,
      `/api/v1/namespaces/${NS}/configmaps`,
      `/api/v1/namespaces/${NS}/secrets`,
    ]) {
      expect((await get<List<unknown>>(`${p}?${sel}`)).body.items, p).toEqual([]);
    }
    await eventually(
      () => pods(queryId),
      (ps) => ps.length === 0,
      60_000,
      'pods gone',
    );
  });
});
