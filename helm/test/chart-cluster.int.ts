// The Helm chart against a real Kubernetes API server (the stack's `kube` component: etcd,
// kube-apiserver, controller-manager, scheduler, and kwok simulating one node). Rendered objects are
// validated by the server (dryRun=All, fieldValidation=Strict, and `helm install --dry-run=server`)
// over a matrix of values; then a real `helm install --wait`, `helm upgrade`, and `helm uninstall`
// in a namespace of this run; the chart's ServiceAccount is checked by the server's authorizer.
// kwok makes pods Running and Ready and completes Job pods, but runs no container: the migration
// hook Job "succeeds" without migrating anything, and nothing here connects to a pod.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { startKube, type KubeCluster } from '../../scripts/test/kube-cluster';
import { permissionsFromRuntimeSource } from './support/runtime-permissions';
import { CHART, TOOL_BUILD_TIMEOUT_MS, goTool, run } from './support/tools';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string; serviceAccountName?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}
interface List<T> {
  items: T[];
}

const suffix = randomUUID().slice(0, 8);
const NS = `chart-${suffix}`;
const ENGINES = `chart-${suffix}-eng`;
const TEAM = `chart-${suffix}-a`;
const RELEASE = 'rel';
const SA = `system:serviceaccount:${NS}:${RELEASE}-sluice`;
const BASE = { secrets: { existingSecret: 'sluice-credentials' }, kafka: { brokers: 'kafka-0.kafka:9092' } };
const INSTANCE = `app.kubernetes.io/instance=${RELEASE}`;

let helm: string;
let kube: KubeCluster;
let kubeVersion: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chart-cluster-'));

function valuesFile(values: unknown): string {
  const file = path.join(tmp, `values-${fs.readdirSync(tmp).length}.yaml`);
  fs.writeFileSync(file, stringify(values));
  return file;
}

function helmRun(args: string[]): { status: number | null; out: string } {
  const r = run(helm, [...args, '--kubeconfig', kube.kubeconfig]);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function render(values: unknown): K8sObject[] {
  const r = run(helm, [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NS,
    '--kube-version',
    kubeVersion,
    '-f',
    valuesFile(values),
  ]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** REST path of an object's collection (the kinds the chart renders). */
function collection(o: K8sObject): string {
  const plural: Record<string, string> = {
    ConfigMap: 'configmaps',
    Service: 'services',
    ServiceAccount: 'serviceaccounts',
    Deployment: 'deployments',
    Job: 'jobs',
    PodDisruptionBudget: 'poddisruptionbudgets',
    Role: 'roles',
    RoleBinding: 'rolebindings',
    ClusterRole: 'clusterroles',
    Ingress: 'ingresses',
    ServiceMonitor: 'servicemonitors',
    PrometheusRule: 'prometheusrules',
  };
  const resource = plural[o.kind];
  if (!resource) throw new Error(`no REST path for kind ${o.kind}`);
  const base = o.apiVersion === 'v1' ? '/api/v1' : `/apis/${o.apiVersion}`;
  if (o.kind === 'ClusterRole') return `${base}/${resource}`;
  return `${base}/namespaces/${o.metadata.namespace ?? NS}/${resource}`;
}

async function waitFor<T>(
  what: string,
  get: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 120_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T;
  do {
    last = await get();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  } while (Date.now() < deadline);
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last).slice(0, 800)}`);
}

async function pods(selector: string, ns = NS): Promise<Pod[]> {
  const r = await kube.kubeFetch<List<Pod>>(
    'GET',
    `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`,
  );
  expect(r.status).toBe(200);
  return r.body.items;
}
const runningAndReady = (p: Pod) =>
  p.status.phase === 'Running' &&
  !p.metadata.deletionTimestamp &&
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

async function createNamespace(name: string): Promise<void> {
  const r = await kube.kubeFetch('POST', '/api/v1/namespaces', { metadata: { name } });
  expect(r.status).toBe(201);
}

/** Minimal CRDs of the Prometheus operator's two kinds, so their objects can be sent at all. */
async function registerMonitoringCrds(): Promise<void> {
  for (const [kind, plural] of [
    ['ServiceMonitor', 'servicemonitors'],
    ['PrometheusRule', 'prometheusrules'],
  ] as const) {
    const name = `${plural}.monitoring.coreos.com`;
    const r = await kube.kubeFetch('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      metadata: { name },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    expect([201, 409]).toContain(r.status); // 409: an earlier run registered it
    await waitFor(
      `CRD ${name} established`,
      () =>
        kube.kubeFetch<{ status?: { conditions?: { type: string; status: string }[] } }>(
          'GET',
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
        ),
      (x) => x.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true,
      30_000,
    );
  }
}

beforeAll(async () => {
  helm = goTool('helm');
  kube = await startKube();
  const version = await kube.kubeFetch<{ gitVersion: string }>('GET', '/version');
  kubeVersion = version.body.gitVersion.replace(/^v/, '');
  for (const ns of [NS, ENGINES, TEAM]) await createNamespace(ns);
  // The credentials the chart references (existingSecret). Nothing connects to these URLs: no
  // container runs on kwok's node.
  const secret = await kube.kubeFetch('POST', `/api/v1/namespaces/${NS}/secrets`, {
    metadata: { name: 'sluice-credentials' },
    stringData: {
      DATABASE_URL: 'postgresql://sluice:unused@db.invalid:5432/sluice',
      REDIS_URL: 'redis://redis.invalid:6379',
      SLUICE_BOOTSTRAP_TOKEN: 'b'.repeat(32),
    },
  });
  expect(secret.status).toBe(201);
  await registerMonitoringCrds();
}, TOOL_BUILD_TIMEOUT_MS);

afterAll(async () => {
  helmRun(['uninstall', RELEASE, '--namespace', NS, '--ignore-not-found']);
  for (const ns of [NS, ENGINES, TEAM]) await kube?.kubeFetch('DELETE', `/api/v1/namespaces/${ns}`);
  await kube?.kubeFetch('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${NS}-${RELEASE}-sluice`);
});

const MATRIX: [string, unknown][] = [
  ['default values', BASE],
  [
    'several namespaces (a ClusterRole bound per namespace)',
    { ...BASE, engine: { namespace: ENGINES }, rbac: { extraNamespaces: [TEAM] } },
  ],
  [
    'ingress with TLS',
    {
      ...BASE,
      ingress: {
        enabled: true,
        className: 'nginx',
        host: 'sluice.test',
        tls: [{ secretName: 'tls', hosts: ['sluice.test'] }],
      },
    },
  ],
  [
    'monitoring on (ServiceMonitor, PrometheusRule, Grafana dashboards)',
    {
      ...BASE,
      serviceMonitor: { enabled: true },
      prometheusRule: { enabled: true },
      grafanaDashboards: { enabled: true },
    },
  ],
  [
    'three replicas, no dashboard, no migrations, events granted, sink connections',
    {
      ...BASE,
      controlPlane: { replicas: 3 },
      dashboard: { enabled: false },
      migrations: { enabled: false },
      rbac: { events: true },
      secrets: {
        existingSecret: 'sluice-credentials',
        keys: { secretsKey: 'SLUICE_SECRETS_KEY' },
        sinkConnections: [{ name: 'WAREHOUSE', secretName: 'warehouse', key: 'url' }],
      },
    },
  ],
];

describe('the rendered chart, validated by the API server', () => {
  it.each(MATRIX)('%s: every object passes a strict server-side dry run', async (_name, values) => {
    const objects = render(values);
    expect(objects.length).toBeGreaterThan(5);
    const refused: string[] = [];
    for (const o of objects) {
      const r = await kube.kubeFetch<{ message?: string }>(
        'POST',
        `${collection(o)}?dryRun=All&fieldValidation=Strict`,
        o,
      );
      if (r.status !== 201) refused.push(`${o.kind}/${o.metadata.name}: ${r.status} ${r.body.message ?? ''}`);
    }
    expect(refused).toEqual([]);
    // Nothing was created by the dry run.
    const cms = await kube.kubeFetch<List<unknown>>(
      'GET',
      `/api/v1/namespaces/${NS}/configmaps?labelSelector=${encodeURIComponent(INSTANCE)}`,
    );
    expect(cms.body.items).toEqual([]);
  });

  it.each(MATRIX)('%s: helm install --dry-run=server accepts it', (_name, values) => {
    const r = helmRun([
      'install',
      RELEASE,
      CHART,
      '--namespace',
      NS,
      '--dry-run=server',
      '-f',
      valuesFile(values),
    ]);
    expect(r.out).toContain('STATUS: pending-install');
    expect(r.status).toBe(0);
  });

  it('refuses, server-side, an object the schema does not know (the dry run is strict)', async () => {
    const [deployment] = render(BASE).filter((o) => o.kind === 'Deployment');
    const bad = { ...deployment!, spec: { ...(deployment!.spec as object), replicaz: 2 } };
    const r = await kube.kubeFetch<{ message: string }>(
      'POST',
      `${collection(bad)}?dryRun=All&fieldValidation=Strict`,
      bad,
    );
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('replicaz');
  });
});

describe('helm install, upgrade and uninstall on the API server', () => {
  it('installs: the migration hook completes, every object exists, the control-plane pods run on the kwok node', async () => {
    const r = helmRun([
      'install',
      RELEASE,
      CHART,
      '--namespace',
      NS,
      '-f',
      valuesFile(BASE),
      '--wait',
      '--timeout',
      '5m',
    ]);
    expect(r.out).toContain('STATUS: deployed');
    expect(r.status).toBe(0);
    // NOTES.txt is printed with the way to the API.
    expect(r.out).toContain('Reach the API');

    const manifest = helmRun(['get', 'manifest', RELEASE, '--namespace', NS]);
    expect(manifest.status).toBe(0);
    const objects = parseAllDocuments(manifest.out)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'Deployment',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    for (const o of objects) {
      const got = await kube.kubeFetch('GET', `${collection(o)}/${o.metadata.name}`);
      expect(got.status, `${o.kind}/${o.metadata.name}`).toBe(200);
    }

    const cp = await waitFor(
      'two control-plane pods Running and Ready',
      () => pods(`${INSTANCE},app.kubernetes.io/component=control-plane`),
      (ps) => ps.filter(runningAndReady).length === 2,
    );
    for (const p of cp.filter(runningAndReady)) {
      expect(p.spec.nodeName).toBe('kwok-node-0');
      expect(p.spec.serviceAccountName).toBe(`${RELEASE}-sluice`);
    }
    expect(
      (await pods(`${INSTANCE},app.kubernetes.io/component=dashboard`)).filter(runningAndReady),
    ).toHaveLength(1);
    // The hook Job succeeded (kwok completed its pod) and was deleted by its hook-delete-policy.
    const jobs = await kube.kubeFetch<List<unknown>>('GET', `/apis/batch/v1/namespaces/${NS}/jobs`);
    expect(jobs.body.items).toEqual([]);
  });

  it("lets the chart's ServiceAccount do what the runtime does, and nothing it does not", async () => {
    const review = async (ns: string, verb: string, group: string, resource: string, subresource = '') => {
      const r = await kube.kubeFetch<{ status: { allowed: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        { spec: { resourceAttributes: { namespace: ns, verb, group, resource, subresource } } },
        { as: SA },
      );
      expect(r.status).toBe(201);
      return r.body.status.allowed;
    };
    const needed = permissionsFromRuntimeSource();
    needed.set('coordination.k8s.io/leases', new Set(['get', 'create', 'update']));
    const denied: string[] = [];
    for (const [key, verbs] of needed) {
      const [group, ...rest] = key.split('/');
      const [resource, subresource] = rest;
      for (const verb of verbs)
        if (!(await review(NS, verb, group!, resource!, subresource))) denied.push(`${verb} ${key}`);
    }
    expect(denied).toEqual([]);
    // Verbs and places the runtime never uses.
    const refused: [string, string, string, string, string?][] = [
      [NS, 'create', '', 'pods'],
      [NS, 'watch', '', 'pods'],
      [NS, 'patch', 'apps', 'statefulsets'],
      [NS, 'create', 'apps', 'deployments'],
      [NS, 'list', '', 'secrets'],
      [NS, 'delete', 'coordination.k8s.io', 'leases'],
      [NS, 'create', '', 'pods', 'exec'],
      ['default', 'get', '', 'configmaps'],
      ['kube-system', 'get', '', 'secrets'],
      ['', 'get', '', 'nodes'],
      ['', 'delete', '', 'namespaces'],
    ];
    for (const [ns, verb, group, resource, sub] of refused)
      expect(await review(ns, verb, group, resource, sub), `${verb} ${group}/${resource} in ${ns}`).toBe(
        false,
      );

    // Real requests as the ServiceAccount, not only reviews.
    const cm = await kube.kubeFetch(
      'POST',
      `/api/v1/namespaces/${NS}/configmaps`,
      { metadata: { name: 'rbac-probe', labels: { probe: 'rbac' } }, data: { a: '1' } },
      { as: SA },
    );
    expect(cm.status).toBe(201);
    const gone = await kube.kubeFetch(
      'DELETE',
      `/api/v1/namespaces/${NS}/configmaps?labelSelector=probe%3Drbac`,
      undefined,
      { as: SA },
    );
    expect(gone.status).toBe(200);
    const deploy = await kube.kubeFetch(
      'POST',
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      { metadata: { name: 'nope' }, spec: {} },
      { as: SA },
    );
    expect(deploy.status).toBe(403);
    const elsewhere = await kube.kubeFetch('GET', '/api/v1/namespaces/default/configmaps', undefined, {
      as: SA,
    });
    expect(elsewhere.status).toBe(403);
  });

  it('upgrades with changed values: three control planes, a new setting, the dashboard gone', async () => {
    const values = {
      ...BASE,
      controlPlane: { replicas: 3, logLevel: 'debug' },
      dashboard: { enabled: false },
    };
    const r = helmRun([
      'upgrade',
      RELEASE,
      CHART,
      '--namespace',
      NS,
      '-f',
      valuesFile(values),
      '--wait',
      '--timeout',
      '5m',
    ]);
    expect(r.out).toContain('REVISION: 2');
    expect(r.status).toBe(0);
    await waitFor(
      'three control-plane pods Running and Ready',
      () => pods(`${INSTANCE},app.kubernetes.io/component=control-plane`),
      (ps) => ps.filter(runningAndReady).length === 3,
    );
    const config = await kube.kubeFetch<{ data: Record<string, string> }>(
      'GET',
      `/api/v1/namespaces/${NS}/configmaps/${RELEASE}-sluice`,
    );
    expect(config.body.data.LOG_LEVEL).toBe('debug');
    const dashboard = await kube.kubeFetch(
      'GET',
      `/apis/apps/v1/namespaces/${NS}/deployments/${RELEASE}-sluice-dashboard`,
    );
    expect(dashboard.status).toBe(404);
    await waitFor(
      'the dashboard pods gone',
      () => pods(`${INSTANCE},app.kubernetes.io/component=dashboard`),
      (ps) => ps.length === 0,
    );
    const history = helmRun(['history', RELEASE, '--namespace', NS, '-o', 'json']);
    const revisions = JSON.parse(history.out) as { revision: number; status: string }[];
    expect(revisions.map((x) => [x.revision, x.status])).toEqual([
      [1, 'superseded'],
      [2, 'deployed'],
    ]);
  });

  it('uninstalls and leaves nothing behind', async () => {
    const r = helmRun(['uninstall', RELEASE, '--namespace', NS, '--wait', '--timeout', '5m']);
    expect(r.status, r.out).toBe(0);
    const sel = `labelSelector=${encodeURIComponent(INSTANCE)}`;
    for (const p of [
      `/api/v1/namespaces/${NS}/configmaps`,
      `/api/v1/namespaces/${NS}/services`,
      `/api/v1/namespaces/${NS}/serviceaccounts`,
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      `/apis/apps/v1/namespaces/${NS}/replicasets`,
      `/apis/batch/v1/namespaces/${NS}/jobs`,
      `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`,
    ]) {
      const left = await kube.kubeFetch<List<unknown>>('GET', `${p}?${sel}`);
      expect(left.body.items, p).toEqual([]);
    }
    await waitFor(
      'every pod of the release gone',
      () => pods(INSTANCE),
      (ps) => ps.length === 0,
    );
    // Helm's own release records (Secrets owned by helm) are gone too.
    const releases = await kube.kubeFetch<List<unknown>>(
      'GET',
      `/api/v1/namespaces/${NS}/secrets?labelSelector=${encodeURIComponent(`owner=helm,name=${RELEASE}`)}`,
    );
    expect(releases.body.items).toEqual([]);
    // Only what the test itself created remains in the namespace.
    const secrets = await kube.kubeFetch<List<K8sObject>>('GET', `/api/v1/namespaces/${NS}/secrets`);
    expect(secrets.body.items.map((s) => s.metadata.name)).toEqual(['sluice-credentials']);
  });
});
