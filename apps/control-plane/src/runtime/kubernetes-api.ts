// KubernetesApi on @kubernetes/client-node (v1.x: every call takes one object parameter).
// Apply = read, create on 404, replace otherwise; the library is only loaded for
// SLUICE_RUNTIME=kubernetes (runtime.module.ts imports this file on demand).
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1ObjectMeta,
  type V1Pod,
  type V1ResourceRequirements,
  type V1Secret,
  type V1Service,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type { KubernetesApi } from './kubernetes.runtime';

const notFound = (e: unknown): boolean => e instanceof ApiException && e.code === 404;

async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (e) {
    if (!notFound(e)) throw e;
  }
}

function target(obj: { metadata?: V1ObjectMeta }): { name: string; namespace: string } {
  const { name, namespace } = obj.metadata ?? {};
  if (!name || !namespace) throw new Error('object to apply needs metadata.name and metadata.namespace');
  return { name, namespace };
}

async function apply<T extends { metadata?: V1ObjectMeta }>(
  body: T,
  read: () => Promise<T>,
  create: (body: T) => Promise<unknown>,
  replace: (body: T) => Promise<unknown>,
): Promise<void> {
  let existing: T;
  try {
    existing = await read();
  } catch (e) {
    if (!notFound(e)) throw e;
    await create(body);
    return;
  }
  // Replace needs the current resourceVersion (Services refuse an update without one). A caller
  // that read the object itself passes its own, so a concurrent change fails with 409, not lost.
  const resourceVersion = body.metadata?.resourceVersion ?? existing.metadata?.resourceVersion;
  await replace({ ...body, metadata: { ...body.metadata, resourceVersion } });
}

/** $KUBECONFIG, else ~/.kube/config, else the pod's service account (in-cluster). */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export class ClientNodeKubernetesApi implements KubernetesApi {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(kc: KubeConfig = loadKubeConfig()) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
  }

  async applyConfigMap(configMap: V1ConfigMap): Promise<void> {
    const { name, namespace } = target(configMap);
    await apply(
      configMap,
      () => this.core.readNamespacedConfigMap({ name, namespace }),
      (body) => this.core.createNamespacedConfigMap({ namespace, body }),
      (body) => this.core.replaceNamespacedConfigMap({ name, namespace, body }),
    );
  }

  async applySecret(secret: V1Secret): Promise<void> {
    const { name, namespace } = target(secret);
    await apply(
      secret,
      () => this.core.readNamespacedSecret({ name, namespace }),
      (body) => this.core.createNamespacedSecret({ namespace, body }),
      (body) => this.core.replaceNamespacedSecret({ name, namespace, body }),
    );
  }

  async applyService(service: V1Service): Promise<void> {
    const { name, namespace } = target(service);
    await apply(
      service,
      () => this.core.readNamespacedService({ name, namespace }),
      (body) => this.core.createNamespacedService({ namespace, body }),
      (body) => this.core.replaceNamespacedService({ name, namespace, body }),
    );
  }

  async applyStatefulSet(statefulSet: V1StatefulSet): Promise<void> {
    const { name, namespace } = target(statefulSet);
    await apply(
      statefulSet,
      () => this.apps.readNamespacedStatefulSet({ name, namespace }),
      (body) => this.apps.createNamespacedStatefulSet({ namespace, body }),
      (body) => this.apps.replaceNamespacedStatefulSet({ name, namespace, body }),
    );
  }

  async getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | null> {
    try {
      return await this.apps.readNamespacedStatefulSet({ name, namespace });
    } catch (e) {
      if (notFound(e)) return null;
      throw e;
    }
  }

  async scaleStatefulSet(
    namespace: string,
    name: string,
    replicas: number,
    resourceVersion?: string,
  ): Promise<void> {
    // A merge patch of the scale subresource, as `kubectl scale` sends; a resourceVersion in the
    // patch is a precondition.
    const body = { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), spec: { replicas } };
    await this.apps.patchNamespacedStatefulSetScale(
      { name, namespace, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  async resizePod(
    namespace: string,
    name: string,
    container: string,
    resources: V1ResourceRequirements,
  ): Promise<void> {
    // The pod's resize subresource (in-place pod resize, GA in Kubernetes 1.35), a strategic merge
    // patch as `kubectl patch --subresource resize` sends: containers merge by name.
    await this.core.patchNamespacedPodResize(
      { name, namespace, body: { spec: { containers: [{ name: container, resources }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }

  async annotatePod(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<void> {
    await ignoreNotFound(
      this.core.patchNamespacedPod(
        { name, namespace, body: { metadata: { annotations } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    await ignoreNotFound(this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds }));
  }

  async deleteStatefulSet(namespace: string, name: string): Promise<void> {
    await ignoreNotFound(
      this.apps.deleteNamespacedStatefulSet({ name, namespace, propagationPolicy: 'Background' }),
    );
  }

  async deleteService(namespace: string, name: string): Promise<void> {
    await ignoreNotFound(this.core.deleteNamespacedService({ name, namespace }));
  }

  async deleteConfigMaps(namespace: string, labelSelector: string): Promise<void> {
    await this.core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector });
  }

  async deleteSecrets(namespace: string, labelSelector: string): Promise<void> {
    await this.core.deleteCollectionNamespacedSecret({ namespace, labelSelector });
  }
}
