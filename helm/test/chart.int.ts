// The Helm chart, without an API server: `helm lint --strict` and `helm template` over a matrix of
// values, with assertions on the rendered objects; values.schema.json refusing bad values by name;
// the README's values table equal to what helm-docs generates now.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { appConfigSchema, loadAppConfig } from '../../apps/control-plane/src/config/app-config';
import { renderPrometheusRulesFile } from '../../scripts/generate/prometheus-rules-file';
import { permissionsFromRuntimeSource } from './support/runtime-permissions';
import { CHART, KUBE_VERSION, ROOT, TOOL_BUILD_TIMEOUT_MS, goTool, run } from './support/tools';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  startupProbe?: { httpGet?: { path: string; port: string } };
  securityContext?: Record<string, unknown>;
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; secret?: unknown; configMap?: { name: string } }[];
}

const NAMESPACE = 'sluice';
const RELEASE = 'rel';
const BASE = { secrets: { existingSecret: 'sluice-credentials' }, kafka: { brokers: 'kafka-0.kafka:9092' } };
/** Every variable of the control plane that holds a secret: never in a ConfigMap or a literal value. */
const SECRET_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'SLUICE_BOOTSTRAP_TOKEN',
  'SLUICE_SECRETS_KEY',
  'SLUICE_SINK_DATABASE_URL',
];

let helm: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chart-'));

function valuesFile(values: unknown): string {
  const file = path.join(tmp, `values-${fs.readdirSync(tmp).length}.yaml`);
  fs.writeFileSync(file, stringify(values));
  return file;
}

function template(values: unknown): { status: number | null; stdout: string; stderr: string } {
  return run(helm, [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    '-f',
    valuesFile(values),
  ]);
}

function render(values: unknown): K8sObject[] {
  const r = template(values);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = ofKind(objects, kind).filter((o) => name === undefined || o.metadata.name === name);
  expect(found.map((o) => `${o.kind}/${o.metadata.name}`)).toHaveLength(1);
  return found[0]!;
}
const podSpec = (o: K8sObject) =>
  (o as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;

function granted(rules: Rule[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const resource of rule.resources) {
        const key = `${group}/${resource}`;
        const verbs = out.get(key) ?? new Set<string>();
        for (const v of rule.verbs) verbs.add(v);
        out.set(key, verbs);
      }
  return out;
}
const asSorted = (m: Map<string, Set<string>>) =>
  Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));

beforeAll(() => {
  helm = goTool('helm');
}, TOOL_BUILD_TIMEOUT_MS);

describe('helm lint --strict', () => {
  it.each([
    ['default', BASE],
    [
      'every switch on',
      {
        ...BASE,
        ingress: { enabled: true },
        serviceMonitor: { enabled: true },
        prometheusRule: { enabled: true },
        grafanaDashboards: { enabled: true },
        rbac: { extraNamespaces: ['team-a'] },
      },
    ],
  ])('passes with %s values', (_name, values) => {
    const r = run(helm, [
      'lint',
      '--strict',
      CHART,
      '--kube-version',
      KUBE_VERSION,
      '-f',
      valuesFile(values),
    ]);
    expect(r.stdout + r.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });
});

describe('default values', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(BASE);
  });

  it('grants the runtime exactly the calls it makes, in its one namespace, plus leases', () => {
    const role = one(objects, 'Role');
    expect(role.metadata.namespace).toBe(NAMESPACE);
    const want = permissionsFromRuntimeSource();
    want.set('coordination.k8s.io/leases', new Set(['get', 'create', 'update']));
    expect(asSorted(granted(role.rules as Rule[]))).toEqual(asSorted(want));
    // What the runtime never does.
    for (const rule of role.rules as Rule[]) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.verbs).not.toContain('watch');
      expect(rule.resources).not.toContain('*');
    }
    expect(ofKind(objects, 'ClusterRole')).toHaveLength(0);
    expect(ofKind(objects, 'ClusterRoleBinding')).toHaveLength(0);
    const binding = one(objects, 'RoleBinding');
    const sa = one(objects, 'ServiceAccount');
    expect(binding).toMatchObject({
      metadata: { namespace: NAMESPACE },
      roleRef: { kind: 'Role', name: role.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE }],
    });
    expect(podSpec(one(objects, 'Deployment', `${RELEASE}-sluice`)).serviceAccountName).toBe(
      sa.metadata.name,
    );
  });

  it('drops leases when asked, and adds events only when asked', () => {
    const keys = (values: unknown) => [...granted(one(render(values), 'Role').rules as Rule[]).keys()];
    expect(keys({ ...BASE, rbac: { leases: false } })).not.toContain('coordination.k8s.io/leases');
    expect(keys(BASE)).not.toContain('/events');
    expect(keys({ ...BASE, rbac: { events: true } })).toContain('/events');
  });

  it('runs every container non-root, read-only, without privilege escalation', () => {
    const workloads = [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'Job')];
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(
      [`${RELEASE}-sluice`, `${RELEASE}-sluice-dashboard`, `${RELEASE}-sluice-migrate`].sort(),
    );
    for (const w of workloads) {
      const spec = podSpec(w);
      expect(spec.securityContext, w.metadata.name).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(Number(spec.securityContext?.runAsUser)).toBeGreaterThan(0);
      for (const c of spec.containers)
        expect(c.securityContext, `${w.metadata.name}/${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ['ALL'] },
        });
    }
  });

  it('probes /healthz for liveness and /readyz for readiness on the API port the Service targets', () => {
    const [cp] = podSpec(one(objects, 'Deployment', `${RELEASE}-sluice`)).containers;
    expect(cp!.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(cp!.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(cp!.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const api = cp!.ports?.find((p) => p.name === 'http');
    const service = one(objects, 'Service', `${RELEASE}-sluice`) as unknown as {
      spec: { ports: { name: string; port: number; targetPort: string }[] };
    };
    expect(service.spec.ports).toContainEqual({ name: 'http', port: api!.containerPort, targetPort: 'http' });
    const config = one(objects, 'ConfigMap').data as Record<string, string>;
    expect(config.SLUICE_API_PORT).toBe(String(api!.containerPort));
    expect(config.SLUICE_API_HOST).toBe('0.0.0.0');
  });

  it('runs the migrations as a pre-install/pre-upgrade hook that needs nothing the release creates', () => {
    const job = one(objects, 'Job');
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const spec = podSpec(job);
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.serviceAccountName).toBeUndefined();
    const [c] = spec.containers;
    expect(c!.args).toEqual(['migrate']);
    expect(c!.envFrom).toBeUndefined();
    expect(c!.env).toEqual([
      {
        name: 'DATABASE_URL',
        valueFrom: { secretKeyRef: { name: 'sluice-credentials', key: 'DATABASE_URL' } },
      },
    ]);
    expect((spec.volumes ?? []).filter((v) => v.configMap || v.secret)).toEqual([]);
  });

  it('configures the control plane with variables it accepts, and a PodDisruptionBudget', () => {
    const config = one(objects, 'ConfigMap').data as Record<string, string>;
    const known = Object.keys(appConfigSchema.shape);
    for (const key of Object.keys(config)) expect(known, key).toContain(key);
    expect(config).toMatchObject({
      SLUICE_RUNTIME: 'kubernetes',
      SLUICE_K8S_NAMESPACE: NAMESPACE,
      SLUICE_K8S_DATABASE_SECRET: 'sluice-credentials',
      SLUICE_ENGINE_IMAGE: 'ghcr.io/sluice/sluice:0.1.0',
      KAFKA_BROKERS: 'kafka-0.kafka:9092',
      SLUICE_METRICS_ACCESS: 'port',
      SLUICE_METRICS_HOST: '0.0.0.0',
    });
    // The ConfigMap plus the secret variables is a configuration the control plane boots with.
    const cfg = loadAppConfig({
      ...config,
      DATABASE_URL: 'postgresql://sluice:pw@db:5432/sluice',
      REDIS_URL: 'redis://redis:6379',
      SLUICE_BOOTSTRAP_TOKEN: 'b'.repeat(32),
    });
    expect(cfg.SLUICE_RUNTIME).toBe('kubernetes');
    const pdb = one(objects, 'PodDisruptionBudget') as unknown as { spec: Record<string, unknown> };
    expect(pdb.spec).toMatchObject({
      minAvailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/component': 'control-plane' } },
    });
    expect(one(objects, 'Deployment', `${RELEASE}-sluice`)).toMatchObject({ spec: { replicas: 2 } });
    // Switches off by default.
    for (const kind of ['Ingress', 'ServiceMonitor', 'PrometheusRule'])
      expect(ofKind(objects, kind)).toHaveLength(0);
  });

  it('deploys the dashboard on its port, talking to the API Service', () => {
    const [c] = podSpec(one(objects, 'Deployment', `${RELEASE}-sluice-dashboard`)).containers;
    expect(c!.env).toEqual([
      { name: 'SLUICE_API_URL', value: `http://${RELEASE}-sluice:4400` },
      { name: 'SLUICE_DASHBOARD_PORT', value: '4401' },
    ]);
    expect(c!.readinessProbe?.httpGet).toEqual({ path: '/api/health', port: 'http' });
    expect(one(objects, 'Service', `${RELEASE}-sluice-dashboard`)).toMatchObject({
      spec: { ports: [{ name: 'http', port: 4401, targetPort: 'http' }] },
    });
  });
});

describe('several namespaces', () => {
  it('moves the rules to a ClusterRole bound by a RoleBinding in each managed namespace, never cluster-wide', () => {
    const objects = render({
      ...BASE,
      engine: { namespace: 'engines' },
      rbac: { extraNamespaces: ['team-a', 'team-b', 'engines'] },
    });
    expect(ofKind(objects, 'Role')).toHaveLength(0);
    expect(ofKind(objects, 'ClusterRoleBinding')).toHaveLength(0);
    const clusterRole = one(objects, 'ClusterRole');
    const want = permissionsFromRuntimeSource();
    want.set('coordination.k8s.io/leases', new Set(['get', 'create', 'update']));
    expect(asSorted(granted(clusterRole.rules as Rule[]))).toEqual(asSorted(want));
    const bindings = ofKind(objects, 'RoleBinding');
    expect(bindings.map((b) => b.metadata.namespace)).toEqual(['engines', 'team-a', 'team-b']);
    for (const b of bindings) {
      expect(b.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: clusterRole.metadata.name,
      });
      expect(b.subjects).toEqual([
        { kind: 'ServiceAccount', name: `${RELEASE}-sluice`, namespace: NAMESPACE },
      ]);
    }
    expect(one(objects, 'ConfigMap').data).toMatchObject({ SLUICE_K8S_NAMESPACE: 'engines' });
  });

  it('keeps one Role when the only managed namespace is the engine namespace', () => {
    const objects = render({ ...BASE, engine: { namespace: 'engines' } });
    expect(one(objects, 'Role').metadata.namespace).toBe('engines');
    expect(one(objects, 'RoleBinding').metadata.namespace).toBe('engines');
    expect(ofKind(objects, 'ClusterRole')).toHaveLength(0);
  });
});

describe('ingress on', () => {
  it('routes the API to the control plane and the rest to the dashboard (its own /api/… handlers too), never /metrics', () => {
    const objects = render({
      ...BASE,
      ingress: {
        enabled: true,
        className: 'nginx',
        host: 'sluice.test',
        tls: [{ secretName: 'sluice-tls', hosts: ['sluice.test'] }],
      },
    });
    const ingress = one(objects, 'Ingress') as unknown as {
      spec: {
        ingressClassName: string;
        tls: unknown[];
        rules: {
          host: string;
          http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] };
        }[];
      };
    };
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ secretName: 'sluice-tls', hosts: ['sluice.test'] }]);
    const [rule] = ingress.spec.rules;
    expect(rule!.host).toBe('sluice.test');
    expect(
      rule!.http.paths.map((p) => [p.path, p.backend.service.name, p.backend.service.port.name]),
    ).toEqual([
      ['/api/v1', `${RELEASE}-sluice`, 'http'],
      ['/api/docs', `${RELEASE}-sluice`, 'http'],
      ['/', `${RELEASE}-sluice-dashboard`, 'http'],
    ]);
  });
});

describe('monitoring on', () => {
  const dashboardUrl = 'https://sluice.test/';
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render({
      ...BASE,
      serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus' } },
      prometheusRule: { enabled: true, labels: { release: 'kube-prometheus' }, dashboardUrl },
      grafanaDashboards: { enabled: true },
    });
  });

  it('scrapes the metrics port, which the Service exposes and the Ingress never routes', () => {
    const sm = one(objects, 'ServiceMonitor');
    expect(sm.metadata.labels).toMatchObject({ release: 'kube-prometheus' });
    expect(sm.spec).toMatchObject({ endpoints: [{ port: 'metrics', path: '/metrics' }] });
    const service = one(objects, 'Service', `${RELEASE}-sluice`) as unknown as {
      spec: { ports: { name: string; port: number }[] };
    };
    expect(service.spec.ports).toContainEqual({ name: 'metrics', port: 4402, targetPort: 'metrics' });
  });

  it('scrapes with a token from a Secret when /metrics needs one, and refuses to render without it', () => {
    const withToken = render({
      ...BASE,
      metrics: { access: 'token' },
      serviceMonitor: { enabled: true, tokenSecret: { name: 'prometheus-sluice-token', key: 'token' } },
    });
    expect(one(withToken, 'ServiceMonitor').spec).toMatchObject({
      endpoints: [
        {
          port: 'http',
          authorization: { type: 'Bearer', credentials: { name: 'prometheus-sluice-token', key: 'token' } },
        },
      ],
    });
    const r = template({ ...BASE, metrics: { access: 'token' }, serviceMonitor: { enabled: true } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('serviceMonitor.tokenSecret.name');
  });

  it('ships the generated alert rules with the dashboard URL filled in', () => {
    const rule = one(objects, 'PrometheusRule');
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus' });
    const generated = parseYaml(
      renderPrometheusRulesFile().replaceAll('__SLUICE_DASHBOARD_URL__', 'https://sluice.test'),
    );
    expect(rule.spec).toEqual(generated);
    expect(JSON.stringify(rule.spec)).not.toContain('__SLUICE_DASHBOARD_URL__');
    expect(JSON.stringify(rule.spec)).toContain('https://sluice.test/queries/{{ $labels.query }}');
  });

  it('ships every Grafana dashboard as a ConfigMap the sidecar picks up', () => {
    const dashboards = ofKind(objects, 'ConfigMap').filter(
      (c) => c.metadata.labels?.grafana_dashboard === '1',
    );
    const sources = fs.readdirSync(path.join(ROOT, 'grafana')).filter((f) => f.endsWith('.json'));
    expect(sources.length).toBeGreaterThan(0);
    expect(dashboards.flatMap((d) => Object.keys(d.data as object)).sort()).toEqual(sources.sort());
    for (const d of dashboards) {
      expect(d.metadata.annotations).toEqual({ grafana_folder: 'Sluice' });
      for (const [file, text] of Object.entries(d.data as Record<string, string>))
        expect(JSON.parse(text)).toEqual(
          JSON.parse(fs.readFileSync(path.join(ROOT, 'grafana', file), 'utf8')),
        );
    }
  });
});

describe('existingSecret', () => {
  it('references every secret variable from Secrets and never inlines one', () => {
    const objects = render({
      ...BASE,
      secrets: {
        existingSecret: 'sluice-credentials',
        keys: { bootstrapToken: 'bootstrap', secretsKey: 'secrets-key', sinkDatabaseUrl: 'sinks' },
        sinkConnections: [{ name: 'ANALYTICS', secretName: 'analytics-db', key: 'url' }],
      },
      engine: { databaseSecret: 'engine-db' },
    });
    expect(ofKind(objects, 'Secret')).toHaveLength(0);
    const [c] = podSpec(one(objects, 'Deployment', `${RELEASE}-sluice`)).containers;
    const fromSecrets = Object.fromEntries(
      (c!.env ?? []).map((e) => [
        e.name,
        e.valueFrom?.secretKeyRef
          ? `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`
          : `literal ${e.value}`,
      ]),
    );
    expect(fromSecrets).toEqual({
      DATABASE_URL: 'sluice-credentials/DATABASE_URL',
      REDIS_URL: 'sluice-credentials/REDIS_URL',
      SLUICE_BOOTSTRAP_TOKEN: 'sluice-credentials/bootstrap',
      SLUICE_SECRETS_KEY: 'sluice-credentials/secrets-key',
      SLUICE_SINK_DATABASE_URL: 'sluice-credentials/sinks',
      SLUICE_SINK_URL_ANALYTICS: 'analytics-db/url',
    });
    const config = one(objects, 'ConfigMap').data as Record<string, string>;
    for (const name of SECRET_VARIABLES) expect(Object.keys(config)).not.toContain(name);
    expect(config.SLUICE_K8S_DATABASE_SECRET).toBe('engine-db');
    // No URL with credentials anywhere in what the chart renders.
    expect(JSON.stringify(objects)).not.toMatch(/postgres(ql)?:\/\/|rediss?:\/\//);
  });

  it('leaves optional secret variables out when their keys are empty', () => {
    const objects = render({ ...BASE, secrets: { existingSecret: 'creds', keys: { bootstrapToken: '' } } });
    const [c] = podSpec(one(objects, 'Deployment', `${RELEASE}-sluice`)).containers;
    expect((c!.env ?? []).map((e) => e.name)).toEqual(['DATABASE_URL', 'REDIS_URL']);
  });
});

describe('values.schema.json', () => {
  it.each([
    ['no existingSecret', { kafka: BASE.kafka }, '/secrets/existingSecret'],
    ['brokers that are not host:port', { ...BASE, kafka: { brokers: 'kafka' } }, '/kafka/brokers'],
    ['zero replicas', { ...BASE, controlPlane: { replicas: 0 } }, '/controlPlane/replicas'],
    [
      'a secret put in the ConfigMap',
      { ...BASE, controlPlane: { extraConfig: { DATABASE_URL: 'postgresql://x' } } },
      '/controlPlane/extraConfig/DATABASE_URL',
    ],
    [
      'a token put in the ConfigMap',
      { ...BASE, controlPlane: { extraConfig: { SLUICE_BOOTSTRAP_TOKEN: 'x'.repeat(30) } } },
      '/controlPlane/extraConfig/SLUICE_BOOTSTRAP_TOKEN',
    ],
    ['an unknown metrics access', { ...BASE, metrics: { access: 'public' } }, '/metrics/access'],
    [
      'a namespace that is not a DNS label',
      { ...BASE, rbac: { extraNamespaces: ['Team_A'] } },
      '/rbac/extraNamespaces/0',
    ],
    [
      'a misspelt key',
      { ...BASE, controlPlane: { replica: 3 } },
      "additional properties 'replica' not allowed",
    ],
    ['a bad engine memory', { ...BASE, engine: { memory: 'lots' } }, '/engine/memory'],
    [
      'a sink connection in lower case',
      {
        ...BASE,
        secrets: { ...BASE.secrets, sinkConnections: [{ name: 'analytics', secretName: 'a', key: 'url' }] },
      },
      '/secrets/sinkConnections/0/name',
    ],
  ])('refuses %s, naming the field (template and lint)', (_name, values, field) => {
    const t = template(values);
    expect(t.status).not.toBe(0);
    expect(t.stderr).toContain(field);
    const l = run(helm, [
      'lint',
      '--strict',
      CHART,
      '--kube-version',
      KUBE_VERSION,
      '-f',
      valuesFile(values),
    ]);
    expect(l.status).not.toBe(0);
    expect(l.stdout + l.stderr).toContain(field);
  });
});

describe('README', () => {
  it('holds the values table helm-docs generates from values.yaml now', () => {
    const copy = path.join(tmp, 'chart-copy');
    fs.cpSync(CHART, copy, { recursive: true });
    fs.rmSync(path.join(copy, 'README.md'));
    const r = run('bash', [path.join(ROOT, 'scripts/tools/helm-docs.sh'), copy]);
    expect(r.status, r.stderr).toBe(0);
    const generated = fs.readFileSync(path.join(copy, 'README.md'), 'utf8');
    expect(generated).toContain('| controlPlane.replicas | int | `2` |');
    expect(
      fs.readFileSync(path.join(CHART, 'README.md'), 'utf8'),
      'helm/sluice/README.md is out of date: bash scripts/tools/helm-docs.sh',
    ).toBe(generated);
  });
});
