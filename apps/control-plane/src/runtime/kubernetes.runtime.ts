// Runs engine instances as the pods of one StatefulSet per query. Instance `<query>-<ordinal>` is
// pod `<objectName>-<ordinal>`; the driver keeps no state of its own, everything is read back
// from the API server, so a restarted control plane simply sees the pods that run.
import type {
  V1ConfigMap,
  V1ContainerStateTerminated,
  V1ContainerStateWaiting,
  V1Pod,
  V1ResourceRequirements,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { CpuLimitReport } from './cpu-limit';
import { bounded, crashReasonFromLog } from './crash-reason';
import { parseInstanceName } from './instance-name';
import {
  ANNOTATION_QUERY_NAME,
  ANNOTATION_TEMPLATE_HASH,
  ENGINE_CONTAINER,
  engineResources,
  LABEL_QUERY_ID,
  LABEL_VERSION,
  objectName,
  parseCpuQuantity,
  podName,
  renderQueryObjects,
} from './kubernetes-objects';
import {
  checkpointLineageArgs,
  type InstanceLaunch,
  type RuntimeDriver,
  type RuntimeInstance,
} from './runtime-driver';

/** The few API calls the driver makes; `kubernetes-api.ts` implements them with @kubernetes/client-node. */
export interface KubernetesApi {
  /** Create-or-replace; the namespace comes from the object's metadata. */
  applyConfigMap(configMap: V1ConfigMap): Promise<void>;
  applySecret(secret: V1Secret): Promise<void>;
  applyService(service: V1Service): Promise<void>;
  applyStatefulSet(statefulSet: V1StatefulSet): Promise<void>;
  /** null when it does not exist. */
  getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | null>;
  /** Sets spec.replicas; with resourceVersion the change fails (409) if the set changed since it was read. */
  scaleStatefulSet(
    namespace: string,
    name: string,
    replicas: number,
    resourceVersion?: string,
  ): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /** Changes one container's resources in place (the pod's resize subresource). */
  resizePod(
    namespace: string,
    name: string,
    container: string,
    resources: V1ResourceRequirements,
  ): Promise<void>;
  /** Merges annotations into a pod's metadata (null removes one); absent pods are not an error. */
  annotatePod(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
  /** Absent pods are not an error. gracePeriodSeconds undefined = the pod's own grace period. */
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void>;
  /** Absent objects are not an error; dependents (the set's pods) are deleted in the background. */
  deleteStatefulSet(namespace: string, name: string): Promise<void>;
  deleteService(namespace: string, name: string): Promise<void>;
  deleteConfigMaps(namespace: string, labelSelector: string): Promise<void>;
  deleteSecrets(namespace: string, labelSelector: string): Promise<void>;
}

export interface KubernetesRuntimeOptions {
  namespace: string;
  image: string;
  /** Secret with DATABASE_URL; engines then keep their checkpoints in that PostgreSQL database. */
  databaseSecretName?: string;
  resources?: { cpu?: string; memory?: string };
}

/**
 * Set on a pod whose in-place CPU resize the API server refused (JSON `{ wanted, reason }`): the
 * pod keeps its limit until it is replaced, the instance view says so, and the driver does not
 * try again for the same limit. State in the API server, like everything else of this driver.
 */
export const ANNOTATION_CPU_LIMIT_PENDING = 'sluice.dev/cpu-limit-pending';

/** Waiting reasons that mean the container is not going to run without help. */
const FAILED_WAITING = new Set([
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

function parseInstance(instanceName: string): { queryName: string; ordinal: number } {
  const parsed = parseInstanceName(instanceName);
  if (!parsed) throw new Error(`not an instance name: ${instanceName}`);
  return { queryName: parsed.query, ordinal: parsed.ordinal };
}

const podOrdinal = (pod: V1Pod): number => Number(/-(\d+)$/.exec(pod.metadata?.name ?? '')?.[1] ?? NaN);
const terminating = (pod: V1Pod): boolean => pod.metadata?.deletionTimestamp != null;

/** The API server refused a write made against a resourceVersion that has moved on (409). */
const isConflict = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 409;

/**
 * client-go's RetryOnConflict: the StatefulSet controller bumps the set's resourceVersion with every
 * status write, so a decision made on a read can meet a 409. The whole read-decide-write is run
 * again on a fresh read (a few times, briefly apart); any other error, or a 5th conflict, is thrown.
 */
async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isConflict(e) || i >= 5) throw e;
      await new Promise((r) => setTimeout(r, 10 * 2 ** i));
    }
  }
}

function pendingCpuLimit(pod: V1Pod): { wanted: number | null; reason: string } | null {
  const raw = pod.metadata?.annotations?.[ANNOTATION_CPU_LIMIT_PENDING];
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as { wanted?: unknown; reason?: unknown };
    const wanted = typeof v.wanted === 'number' ? v.wanted : null;
    return { wanted, reason: typeof v.reason === 'string' ? v.reason : 'resize refused' };
  } catch {
    return null;
  }
}

/**
 * The CPU limit a pod's engine container runs with, as its spec says (the kubelet applies it as
 * the container's CFS quota). Not applied while the kubelet is resizing it (PodResizePending /
 * PodResizeInProgress) or when an in-place change was refused (the pending annotation: the query's
 * limit is shown as requested, with the API server's reason).
 */
export function podCpuLimit(pod: V1Pod): CpuLimitReport | null {
  const container = pod.spec?.containers.find((c) => c.name === ENGINE_CONTAINER);
  const cores = parseCpuQuantity(container?.resources?.limits?.cpu);
  const pending = pendingCpuLimit(pod);
  if (pending && pending.wanted !== cores)
    return {
      requested: pending.wanted,
      applied: false,
      reason: `the pod runs with ${cores === null ? 'no CPU limit' : `a CPU limit of ${cores}`} until it is replaced: ${pending.reason}`,
    };
  if (cores === null) return null;
  const resizing = pod.status?.conditions?.find(
    (c) => (c.type === 'PodResizePending' || c.type === 'PodResizeInProgress') && c.status === 'True',
  );
  if (resizing)
    return {
      requested: cores,
      applied: false,
      reason: bounded(`${resizing.type}${resizing.message ? `: ${resizing.message}` : ''}`),
    };
  return { requested: cores, applied: true };
}

/** How a pod reads as a Sluice instance; undefined for a pod this driver did not render. */
export function describePod(pod: V1Pod): RuntimeInstance | undefined {
  const queryName = pod.metadata?.annotations?.[ANNOTATION_QUERY_NAME];
  const ordinal = podOrdinal(pod);
  if (!queryName || !Number.isInteger(ordinal)) return undefined;
  const base = {
    name: `${queryName}-${ordinal}`,
    ref: `pod:${pod.metadata?.name}`,
    version: Number(pod.metadata?.labels?.[LABEL_VERSION] ?? 0),
    cpuLimit: podCpuLimit(pod),
  };
  // Deleting a pod (or scaling it away) is how this driver asks for a drain.
  const drainRequested = terminating(pod);
  const c = pod.status?.containerStatuses?.find((s) => s.name === ENGINE_CONTAINER);
  const stuck = c?.state?.waiting?.reason !== undefined && FAILED_WAITING.has(c.state.waiting.reason);
  const ended = c?.state?.terminated ?? (stuck ? c?.lastState?.terminated : undefined);
  const phase = pod.status?.phase ?? 'Pending';
  if ((phase === 'Running' || phase === 'Pending') && !ended && !stuck) {
    return { ...base, state: 'running', exitCode: null, drained: drainRequested, exitedAt: null };
  }
  const exitCode = ended?.exitCode ?? null;
  const drained = drainRequested || exitCode === 0;
  return {
    ...base,
    state: 'exited',
    exitCode,
    drained,
    exitedAt: ended?.finishedAt ? new Date(ended.finishedAt) : null,
    lastError: drained ? null : terminationReason(ended, c?.state?.waiting),
  };
}

/**
 * Why the container ended: its termination message — with `FallbackToLogsOnError` (see
 * kubernetes-objects.ts) the tail of its log, from which the error line is taken — else the
 * kubelet's reason (OOMKilled, Error, …) or why it cannot start (ErrImagePull, …).
 */
function terminationReason(
  ended: V1ContainerStateTerminated | undefined,
  waiting: V1ContainerStateWaiting | undefined,
): string | null {
  const fromLog = ended?.message ? crashReasonFromLog(ended.message) : undefined;
  if (fromLog) return ended?.reason && ended.reason !== 'Error' ? `${ended.reason}: ${fromLog}` : fromLog;
  if (ended?.reason) return ended.reason;
  if (waiting?.reason)
    return bounded(waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason);
  return null;
}

export class KubernetesRuntime implements RuntimeDriver {
  readonly kind = 'kubernetes' as const;

  constructor(
    private readonly api: KubernetesApi,
    private readonly opts: KubernetesRuntimeOptions,
  ) {}

  private pods(queryId: string): Promise<V1Pod[]> {
    return this.api.listPods(this.opts.namespace, `${LABEL_QUERY_ID}=${queryId}`);
  }

  start(l: InstanceLaunch): Promise<RuntimeInstance> {
    return retryOnConflict(() => this.startOnce(l));
  }

  private async startOnce(l: InstanceLaunch): Promise<RuntimeInstance> {
    const ns = this.opts.namespace;
    const name = objectName(l.queryName);
    const current = await this.api.getStatefulSet(ns, name);
    const owner = current?.metadata?.labels?.[LABEL_QUERY_ID];
    if (current && owner !== l.queryId)
      throw new Error(`StatefulSet ${ns}/${name} belongs to query ${owner ?? '(none)'}, not ${l.queryId}`);
    const replicas = Math.max(current?.spec?.replicas ?? 0, l.ordinal + 1);
    const objects = renderQueryObjects({
      namespace: ns,
      queryId: l.queryId,
      queryName: l.queryName,
      version: l.version,
      instances: replicas,
      specText: l.specText,
      image: this.opts.image,
      // The launch's checkpoint location is a path on the control plane's machine; pods use the
      // database from the secret (Kubernetes expands $(DATABASE_URL) from the container env).
      checkpointUri: this.opts.databaseSecretName ? '$(DATABASE_URL)' : l.checkpointUri,
      brokers: l.brokers,
      rateLimit: l.rateLimit,
      // Every lineage lives in the one checkpoint database (rows namespaced per lineage), so a
      // continuing checkpoint reads the old one through the same --checkpoint URI.
      checkpointArgs: checkpointLineageArgs(l, this.opts.databaseSecretName ? null : undefined),
      databaseSecretName: this.opts.databaseSecretName,
      resources: this.opts.resources,
      cpuLimit: l.cpuLimit,
      sinkPostgresUrl: l.sinkPostgresUrl,
      tablePostgresUrls: l.tablePostgresUrls ?? {},
    });
    // Applied at every start, whatever the template: the connection's URL may have changed (a
    // rotated password), and pods read it when they start.
    if (objects.sinkSecret) await this.api.applySecret(objects.sinkSecret);
    const sameTemplate =
      current?.metadata?.annotations?.[ANNOTATION_TEMPLATE_HASH] ===
      objects.statefulSet.metadata?.annotations?.[ANNOTATION_TEMPLATE_HASH];
    if (!current || !sameTemplate || current.spec?.replicas !== replicas) {
      // ConfigMap and Service first: the pods mount the one and the set names the other.
      await this.api.applyConfigMap(objects.configMap);
      await this.api.applyService(objects.service);
      if (current?.metadata?.resourceVersion && objects.statefulSet.metadata) {
        objects.statefulSet.metadata.resourceVersion = current.metadata.resourceVersion; // conflict, not overwrite
      }
      await this.api.applyStatefulSet(objects.statefulSet);
    }
    // A pod that exited stays as it is (restart backoff, old template under OnDelete). The
    // reconciler's start means "run it again now": delete it and the set recreates it.
    const pod = podName(l.queryName, l.ordinal);
    const existing = current ? (await this.pods(l.queryId)).find((p) => p.metadata?.name === pod) : undefined;
    if (existing && !terminating(existing) && describePod(existing)?.state === 'exited')
      await this.api.deletePod(ns, pod, 0);
    return {
      name: l.instanceName,
      ref: `pod:${pod}`,
      version: l.version,
      state: 'running',
      exitCode: null,
      drained: false,
      exitedAt: null,
    };
  }

  /**
   * Kubernetes sends SIGTERM (= engine drain: finish the batch, commit, exit) whenever a pod goes
   * away, and kills it after the grace period (60 s). A StatefulSet has no holes, so:
   * - the highest ordinal is drained by scaling the set down (otherwise it would be recreated);
   *   lower ordinals that are already terminating go with it, so they are not recreated either
   *   (an upgrade drains every old pod in one reconcile pass, lowest first);
   * - a lower ordinal is drained by deleting its pod with its default grace period; the set
   *   recreates it from the current template.
   */
  drain(queryId: string, instanceName: string): Promise<void> {
    return retryOnConflict(() => this.drainOnce(queryId, instanceName));
  }

  private async drainOnce(queryId: string, instanceName: string): Promise<void> {
    const ns = this.opts.namespace;
    const { queryName, ordinal } = parseInstance(instanceName);
    const name = objectName(queryName);
    const set = await this.api.getStatefulSet(ns, name);
    const replicas = set?.spec?.replicas ?? 0;
    if (ordinal >= replicas) return; // already outside the set: the controller is removing it
    const pods = await this.pods(queryId);
    const leaving = new Set(pods.filter(terminating).map(podOrdinal));
    let above = ordinal + 1;
    while (above < replicas && leaving.has(above)) above++;
    if (above < replicas) {
      await this.api.deletePod(ns, podName(queryName, ordinal));
      return;
    }
    let keep = ordinal;
    while (keep > 0 && leaving.has(keep - 1)) keep--;
    await this.api.scaleStatefulSet(ns, name, keep, set?.metadata?.resourceVersion);
  }

  /**
   * A query's new CPU limit: the StatefulSet's template (pods it creates from now on) and the
   * running pod in place through its resize subresource. The API server refuses a resize that
   * would change the pod's QoS class (adding a limit to a pod without one, or removing it): that
   * pod keeps its limit until it is replaced (a restart, an upgrade, a scale-in and out), and the
   * refusal is recorded on it (ANNOTATION_CPU_LIMIT_PENDING) for the instance view.
   */
  async setCpuLimit(queryId: string, instanceName: string, cpus: number | null): Promise<void> {
    const ns = this.opts.namespace;
    const { queryName, ordinal } = parseInstance(instanceName);
    const want = engineResources({ resources: this.opts.resources, cpuLimit: cpus });
    await retryOnConflict(async () => {
      const set = await this.api.getStatefulSet(ns, objectName(queryName));
      const c = set?.spec?.template.spec?.containers.find((x) => x.name === ENGINE_CONTAINER);
      if (!set || !c || parseCpuQuantity(c.resources?.limits?.cpu) === cpus) return;
      c.resources = want ?? {};
      await this.api.applyStatefulSet(set);
    });
    const name = podName(queryName, ordinal);
    const pod = (await this.pods(queryId)).find((p) => p.metadata?.name === name);
    if (!pod || terminating(pod)) return;
    const pending = pendingCpuLimit(pod);
    if (pending && pending.wanted === cpus) return; // refused before for this limit
    try {
      // Only CPU changes here; memory (the cluster default) stays as the pod has it.
      await this.api.resizePod(ns, name, ENGINE_CONTAINER, {
        requests: { cpu: want?.requests?.cpu ?? null },
        limits: { cpu: want?.limits?.cpu ?? null },
      } as unknown as V1ResourceRequirements);
      if (pending) await this.api.annotatePod(ns, name, { [ANNOTATION_CPU_LIMIT_PENDING]: null });
    } catch (e) {
      const reason = bounded(
        (e as { body?: unknown }).body
          ? String((e as { body?: unknown }).body)
          : e instanceof Error
            ? e.message
            : String(e),
      );
      await this.api.annotatePod(ns, name, {
        [ANNOTATION_CPU_LIMIT_PENDING]: JSON.stringify({ wanted: cpus, reason }),
      });
    }
  }

  /** Hard stop: no grace period (SIGKILL). The set may recreate the pod unless it was scaled away. */
  async kill(_queryId: string, instanceName: string): Promise<void> {
    const { queryName, ordinal } = parseInstance(instanceName);
    await this.api.deletePod(this.opts.namespace, podName(queryName, ordinal), 0);
  }

  async list(queryId: string): Promise<RuntimeInstance[]> {
    return (await this.pods(queryId))
      .map((p) => ({ ordinal: podOrdinal(p), instance: describePod(p) }))
      .filter((x): x is { ordinal: number; instance: RuntimeInstance } => x.instance !== undefined)
      .sort((a, b) => a.ordinal - b.ordinal)
      .map((x) => x.instance);
  }

  /** Nothing to clean up: Kubernetes removes pods that are gone from the set. */
  async forget(_queryId: string, _instanceName: string): Promise<void> {}

  /** Deletes the query's StatefulSet, Service and every version's ConfigMap. */
  async remove(queryId: string, queryName: string): Promise<void> {
    const ns = this.opts.namespace;
    await this.api.deleteStatefulSet(ns, objectName(queryName));
    await this.api.deleteService(ns, objectName(queryName));
    await this.api.deleteConfigMaps(ns, `${LABEL_QUERY_ID}=${queryId}`);
    await this.api.deleteSecrets(ns, `${LABEL_QUERY_ID}=${queryId}`);
  }
}
