// A control-plane process with the Kubernetes runtime, pointed at the local API server (the stack's
// `kube` component): engines become StatefulSet pods there, which kwok runs in simulation only.
import { startKube, type KubeCluster } from '../../../../scripts/test/kube-cluster';
import { isolatedStack, type IsolatedStack } from '../upgrade-support';
import { startControlPlane, type ControlPlaneProcess } from './control-plane-process';

/** The image the pods name; never pulled (no container runs on kwok's node). */
export const TEST_ENGINE_IMAGE = 'registry.invalid/sluice/engine:test';
/** The Secret with DATABASE_URL the engine pods would read (required by the runtime's config). */
export const TEST_DATABASE_SECRET = 'sluice-db';

/** A control plane started by startKubeControlPlane: always named (its POD_NAME). */
export type KubeControlPlane = ControlPlaneProcess & { name: string };

/** Creates the namespace and the database Secret the runtime's config names. */
export async function prepareNamespace(kube: KubeCluster, namespace: string): Promise<void> {
  const ns = await kube.kubeFetch('POST', '/api/v1/namespaces', { metadata: { name: namespace } });
  if (ns.status !== 201) throw new Error(`creating namespace ${namespace}: ${ns.status}`);
  const secret = await kube.kubeFetch('POST', `/api/v1/namespaces/${namespace}/secrets`, {
    metadata: { name: TEST_DATABASE_SECRET },
    stringData: { DATABASE_URL: 'postgresql://unused@db.invalid/sluice' },
  });
  if (secret.status !== 201) throw new Error(`creating Secret ${TEST_DATABASE_SECRET}: ${secret.status}`);
}

export async function startKubeControlPlane(
  kube: KubeCluster,
  opts: { name: string; namespace: string; home: string; env?: Record<string, string> },
): Promise<KubeControlPlane> {
  const cp = await startControlPlane({
    name: opts.name,
    home: opts.home,
    readyTimeoutMs: 90_000,
    env: {
      ...process.env,
      KUBECONFIG: kube.kubeconfig,
      SLUICE_RUNTIME: 'kubernetes',
      SLUICE_K8S_NAMESPACE: opts.namespace,
      SLUICE_ENGINE_IMAGE: TEST_ENGINE_IMAGE,
      SLUICE_K8S_DATABASE_SECRET: TEST_DATABASE_SECRET,
      SLUICE_RECONCILE_INTERVAL_MS: '1000',
      SLUICE_INSTANCE_SETTLE_MS: '1000',
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
  });
  return { ...cp, name: opts.name };
}

/** What a suite on the local API server runs against (startKubeSuite). */
export interface KubeSuite {
  kube: KubeCluster;
  /** Its own database and Redis index (a control plane on the shared ones would reconcile its queries). */
  stack: IsolatedStack;
  /** An admin token of that database. */
  token: string;
  cp: KubeControlPlane;
}

/**
 * The API server (started if needed), the suite's namespace with the database Secret, its own
 * database and Redis index, an admin token, and one control plane on the Kubernetes runtime.
 */
export async function startKubeSuite(o: {
  namespace: string;
  database: string;
  redisIndex: number;
  tokenName: string;
  cpName: string;
  home: string;
  /** Added to the isolated stack's environment. */
  env?: Record<string, string>;
}): Promise<KubeSuite> {
  const kube = await startKube();
  await prepareNamespace(kube, o.namespace);
  const stack = await isolatedStack(o.database, o.redisIndex);
  const token = stack.token('admin', o.tokenName);
  const cp = await startKubeControlPlane(kube, {
    name: o.cpName,
    namespace: o.namespace,
    home: o.home,
    env: { ...stack.env, ...o.env },
  });
  return { kube, stack, token, cp };
}

/** Ends what startKubeSuite started (whatever of it exists): the control plane, the namespace, the database. */
export async function stopKubeSuite(
  s: { cp?: KubeControlPlane; kube?: KubeCluster; stack?: IsolatedStack },
  namespace: string,
): Promise<void> {
  await s.cp?.kill();
  await s.kube?.kubeFetch('DELETE', `/api/v1/namespaces/${namespace}`);
  await s.stack?.drop();
}
