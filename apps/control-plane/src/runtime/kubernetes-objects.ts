// Renders the Kubernetes objects for one query: a ConfigMap with the spec (one per version), a
// StatefulSet of engine pods and its headless Service (also the metrics scrape target). A
// StatefulSet rather than a Deployment: pod names are `<objectName>-<ordinal>`, so every pod is
// one Sluice instance `<query>-<ordinal>` and the driver can drain or kill exactly that one.
// Partitions are still assigned by Kafka (the pods of one query form one consumer group).
import { createHash } from 'node:crypto';
import { engineNodeFlagsOfText } from '@sluice/query-plan';
import type {
  V1ConfigMap,
  V1PodTemplateSpec,
  V1ResourceRequirements,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';

export interface KubernetesQueryRender {
  namespace: string;
  queryId: string;
  queryName: string;
  version: number;
  instances: number;
  specText: string;
  image: string;
  /** Passed to `--checkpoint`; may reference a container variable, e.g. `$(DATABASE_URL)`. */
  checkpointUri: string;
  brokers: string;
  /** Query-level maxOffsetsPerTrigger for pods started from this template. */
  rateLimit?: number | null;
  /** Engine flags of the checkpoint lineage (runtime-driver.ts checkpointLineageArgs). */
  checkpointArgs?: string[];
  /** Secret holding DATABASE_URL for the PostgreSQL checkpoint store. */
  databaseSecretName?: string;
  /**
   * The resolved sink connection of a PostgreSQL sink. It travels in a Secret of its own per
   * query (never in the pod template or a ConfigMap) and reaches the engine as
   * SLUICE_SINK_POSTGRES_URL; null for sinks that need none.
   */
  sinkPostgresUrl?: string | null;
  /**
   * The join tables' connections (name → URL): in the same Secret (key TABLES_SECRET_KEY), as
   * SLUICE_TABLE_POSTGRES_URLS; empty/absent for a query without `tables:`.
   */
  tablePostgresUrls?: Record<string, string>;
  /** Cluster-wide engine defaults (SLUICE_K8S_ENGINE_CPU / _MEMORY). */
  resources?: { cpu?: string; memory?: string };
  /** The query's CPU limit per instance in cores (see cpuResources); null/absent = none. */
  cpuLimit?: number | null;
}

export interface KubernetesQueryObjects {
  configMap: V1ConfigMap;
  /** The sink's and the join tables' connection URLs, when the query has either. */
  sinkSecret: V1Secret | null;
  statefulSet: V1StatefulSet;
  service: V1Service;
}

const MANAGED_BY = 'sluice-control-plane';
export const LABEL_QUERY_ID = 'sluice.dev/query-id';
export const LABEL_VERSION = 'sluice.dev/version';
export const ANNOTATION_QUERY_NAME = 'sluice.dev/query-name';
export const ANNOTATION_TEMPLATE_HASH = 'sluice.dev/template-hash';
export const ENGINE_CONTAINER = 'engine';
/** Set by the StatefulSet controller on every pod it creates (Kubernetes ≥ 1.28): the pod's ordinal. */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/**
 * The engine's node flags for its spec (@sluice/query-plan engineNodeFlags), which the image's
 * entrypoint puts on node's command line (docker/sluice-entrypoint.sh): pods get `args` only.
 */
export const ENGINE_NODE_FLAGS_ENV = 'SLUICE_ENGINE_NODE_FLAGS';
/** Time the engine gets after SIGTERM to finish and commit its batch. */
export const TERMINATION_GRACE_SECONDS = 60;

// A StatefulSet's pods carry `controller-revision-hash: <name>-<10 chars>`, a label value of at
// most 63 characters, so the StatefulSet name must stay within 52.
const MAX_NAME = 52;

const hash = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** DNS-1123 label, ≤ 52 characters, stable for a query; truncated names get a hash suffix so two long names stay apart. */
export function objectName(queryName: string): string {
  const base = `sluice-${queryName}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/-+$/, '');
  if (base.length <= MAX_NAME) return base;
  return `${base.slice(0, MAX_NAME - 9).replace(/-+$/, '')}-${hash(queryName, 8)}`;
}

export const podName = (queryName: string, ordinal: number) => `${objectName(queryName)}-${ordinal}`;

/** The Secret holding a query's sink URL (≤ 57 characters: a valid Secret name). */
export const sinkSecretName = (objectName: string) => `${objectName}-sink`;
export const SINK_SECRET_KEY = 'url';
export const TABLES_SECRET_KEY = 'tables';
const hasTables = (r: KubernetesQueryRender): boolean => Object.keys(r.tablePostgresUrls ?? {}).length > 0;

function labels(r: KubernetesQueryRender): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'sluice-engine',
    'app.kubernetes.io/instance': objectName(r.queryName),
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [LABEL_QUERY_ID]: r.queryId,
  };
}

/** Cores as a Kubernetes CPU quantity in millicores (0.25 → "250m"); the API's own granularity. */
export function cpuQuantity(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

/** A CPU quantity ("250m", "0.5", "2") in cores; null for anything else. */
export function parseCpuQuantity(q: string | undefined): number | null {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q ?? '');
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === 'm' ? n / 1000 : n;
}

/**
 * The engine container's resources. A query's cpuLimit becomes both the CPU request and the CPU
 * limit (the kubelet turns the limit into the container's CFS quota, as the local runtime does
 * per process): the scheduler then places the pod only where that CPU is free, and with a memory
 * default the pod is Guaranteed, which in-place resizes of the limit keep (a resize may not change
 * a pod's QoS class). Without a cpuLimit: the cluster default as a request only (no CPU limit:
 * throttling stretches batches) and a memory limit equal to its request.
 */
export function engineResources(
  r: Pick<KubernetesQueryRender, 'resources' | 'cpuLimit'>,
): V1ResourceRequirements | undefined {
  const { cpu, memory } = r.resources ?? {};
  if (r.cpuLimit !== null && r.cpuLimit !== undefined) {
    const limit = cpuQuantity(r.cpuLimit);
    return {
      requests: { cpu: limit, ...(memory ? { memory } : {}) },
      limits: { cpu: limit, ...(memory ? { memory } : {}) },
    };
  }
  if (!cpu && !memory) return undefined;
  const requests = { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) };
  return { requests, ...(memory ? { limits: { memory } } : {}) };
}

function podTemplate(
  r: KubernetesQueryRender,
  name: string,
  common: Record<string, string>,
): V1PodTemplateSpec {
  const nodeFlags = engineNodeFlagsOfText(r.specText);
  return {
    metadata: {
      labels: { ...common, [LABEL_VERSION]: String(r.version) },
      // The driver maps a pod back to the Sluice instance `<query>-<ordinal>` with this.
      annotations: { [ANNOTATION_QUERY_NAME]: r.queryName },
    },
    spec: {
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: ENGINE_CONTAINER,
          image: r.image,
          args: [
            'run',
            '--spec',
            '/etc/sluice/spec.yaml',
            '--checkpoint',
            r.checkpointUri,
            // The instance id is the control plane's `<query>-<ordinal>` (progress and drain
            // commands are addressed by it), not the pod name `sluice-<query>-<ordinal>`: the
            // StatefulSet controller labels each pod with its ordinal, and Kubernetes expands
            // $(POD_INDEX) from the env below.
            '--instance-id',
            `${r.queryName}-$(POD_INDEX)`,
            '--query-id',
            r.queryId,
            '--brokers',
            r.brokers,
            '--query-version',
            String(r.version),
            ...(r.rateLimit ? ['--rate-limit', String(r.rateLimit)] : []),
            ...(r.checkpointArgs ?? []),
          ],
          env: [
            {
              name: 'POD_INDEX',
              valueFrom: { fieldRef: { fieldPath: `metadata.labels['${POD_INDEX_LABEL}']` } },
            },
            ...(nodeFlags.length > 0 ? [{ name: ENGINE_NODE_FLAGS_ENV, value: nodeFlags.join(' ') }] : []),
            ...(r.databaseSecretName
              ? [
                  {
                    name: 'DATABASE_URL',
                    valueFrom: { secretKeyRef: { name: r.databaseSecretName, key: 'DATABASE_URL' } },
                  },
                ]
              : []),
            ...(r.sinkPostgresUrl
              ? [
                  {
                    name: 'SLUICE_SINK_POSTGRES_URL',
                    valueFrom: { secretKeyRef: { name: sinkSecretName(name), key: SINK_SECRET_KEY } },
                  },
                ]
              : []),
            ...(hasTables(r)
              ? [
                  {
                    name: 'SLUICE_TABLE_POSTGRES_URLS',
                    valueFrom: { secretKeyRef: { name: sinkSecretName(name), key: TABLES_SECRET_KEY } },
                  },
                ]
              : []),
          ],
          ports: [{ name: 'metrics', containerPort: 9464 }],
          // A failed container's termination message is the tail of its log, so the control
          // plane can say why it crashed (the engine ends with its error line on stderr).
          terminationMessagePolicy: 'FallbackToLogsOnError',
          resources: engineResources(r),
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
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
  };
}

export function renderQueryObjects(r: KubernetesQueryRender): KubernetesQueryObjects {
  const name = objectName(r.queryName);
  const selector = { 'app.kubernetes.io/instance': name, [LABEL_QUERY_ID]: r.queryId };
  const common = labels(r);
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${name}-v${r.version}`,
      namespace: r.namespace,
      labels: { ...common, [LABEL_VERSION]: String(r.version) },
    },
    data: { 'spec.yaml': r.specText },
  };
  const sinkSecret: V1Secret | null =
    r.sinkPostgresUrl || hasTables(r)
      ? {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: sinkSecretName(name), namespace: r.namespace, labels: common },
          type: 'Opaque',
          stringData: {
            ...(r.sinkPostgresUrl ? { [SINK_SECRET_KEY]: r.sinkPostgresUrl } : {}),
            ...(hasTables(r) ? { [TABLES_SECRET_KEY]: JSON.stringify(r.tablePostgresUrls) } : {}),
          },
        }
      : null;
  const template = podTemplate(r, name, common);
  const statefulSet: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name,
      namespace: r.namespace,
      labels: common,
      // Lets the driver skip a write when the template it would apply is the one in place.
      annotations: { [ANNOTATION_TEMPLATE_HASH]: hash(JSON.stringify(template), 16) },
    },
    spec: {
      replicas: r.instances,
      serviceName: name,
      selector: { matchLabels: selector },
      // Parallel: a scale-out starts all new pods at once, not one after another becoming ready.
      podManagementPolicy: 'Parallel',
      // OnDelete (the StatefulSet form of Recreate): a template change never restarts a pod. An
      // upgrade drains the old pods itself (commit of their last batch) before new ones start.
      updateStrategy: { type: 'OnDelete' },
      template,
    },
  };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: r.namespace, labels: common },
    spec: { clusterIP: 'None', selector, ports: [{ name: 'metrics', port: 9464, targetPort: 'metrics' }] },
  };
  return { configMap, sinkSecret, statefulSet, service };
}
