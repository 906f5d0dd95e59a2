// Renders the Kubernetes objects for one query: a ConfigMap with the spec, a Deployment of engine
// pods (the pods of one query form one Kafka consumer group, so Kafka assigns partitions and the
// pods need no identity of their own), and a headless Service for metrics scraping.
import type { V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';

export interface KubernetesQueryRender {
  namespace: string;
  queryId: string;
  queryName: string;
  version: number;
  instances: number;
  specText: string;
  image: string;
  checkpointUri: string;
  brokers: string;
  /** Secret holding DATABASE_URL for the PostgreSQL checkpoint store. */
  databaseSecretName?: string;
  resources?: { cpu: string; memory: string };
}

const MANAGED_BY = 'sluice-control-plane';

/** DNS-1123 label, ≤ 63 characters, stable for a query. */
export function objectName(queryName: string): string {
  const base = `sluice-${queryName}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-');
  return base.slice(0, 63).replace(/-+$/, '');
}

function labels(r: KubernetesQueryRender): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'sluice-engine',
    'app.kubernetes.io/instance': objectName(r.queryName),
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'sluice.dev/query-id': r.queryId,
  };
}

export function renderQueryObjects(r: KubernetesQueryRender): { configMap: V1ConfigMap; deployment: V1Deployment; service: V1Service } {
  const name = objectName(r.queryName);
  const selector = { 'app.kubernetes.io/instance': name, 'sluice.dev/query-id': r.queryId };
  const common = labels(r);
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-v${r.version}`, namespace: r.namespace, labels: { ...common, 'sluice.dev/version': String(r.version) } },
    data: { 'spec.yaml': r.specText },
  };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: r.namespace, labels: common },
    spec: {
      replicas: r.instances,
      selector: { matchLabels: selector },
      // Recreate, not RollingUpdate: an upgrade must drain the old version (commit its last batch)
      // before the new one reads the checkpoint.
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels: { ...common, 'sluice.dev/version': String(r.version) } },
        spec: {
          terminationGracePeriodSeconds: 60,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'engine',
              image: r.image,
              args: [
                'run',
                '--spec', '/etc/sluice/spec.yaml',
                '--checkpoint', r.checkpointUri,
                '--instance-id', '$(POD_NAME)',
                '--query-id', r.queryId,
                '--brokers', r.brokers,
                '--query-version', String(r.version),
              ],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ...(r.databaseSecretName
                  ? [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: r.databaseSecretName, key: 'DATABASE_URL' } } }]
                  : []),
              ],
              ports: [{ name: 'metrics', containerPort: 9464 }],
              resources: r.resources ? { requests: r.resources, limits: { memory: r.resources.memory } } : undefined,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'spec', mountPath: '/etc/sluice', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'spec', configMap: { name: `${name}-v${r.version}` } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: r.namespace, labels: common },
    spec: { clusterIP: 'None', selector, ports: [{ name: 'metrics', port: 9464, targetPort: 'metrics' }] },
  };
  return { configMap, deployment, service };
}
