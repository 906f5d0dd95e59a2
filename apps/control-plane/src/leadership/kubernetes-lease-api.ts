// LeaseApi on @kubernetes/client-node (loaded only when the Lease election is used). The Lease's
// times are MicroTime: the API server wants six fractional digits, which V1MicroTime writes and a
// plain Date (milliseconds) does not.
import {
  ApiException,
  CoordinationV1Api,
  V1MicroTime,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import { loadKubeConfig } from '../runtime/kubernetes-api';
import type { LeaseApi } from './lease-lock';

const status = (e: unknown): number | undefined => (e instanceof ApiException ? e.code : undefined);

function micro(lease: V1Lease): V1Lease {
  const spec = lease.spec ?? {};
  const t = (d: Date | undefined) =>
    d instanceof Date && !(d instanceof V1MicroTime) ? new V1MicroTime(d.getTime()) : d;
  return { ...lease, spec: { ...spec, renewTime: t(spec.renewTime), acquireTime: t(spec.acquireTime) } };
}

export class ClientNodeLeaseApi implements LeaseApi {
  private readonly api: CoordinationV1Api;

  constructor(kc: KubeConfig = loadKubeConfig()) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  async read(namespace: string, name: string): Promise<V1Lease | null> {
    try {
      return await this.api.readNamespacedLease({ namespace, name });
    } catch (e) {
      if (status(e) === 404) return null;
      throw e;
    }
  }

  async create(lease: V1Lease): Promise<boolean> {
    try {
      await this.api.createNamespacedLease({
        namespace: lease.metadata?.namespace ?? '',
        body: micro(lease),
      });
      return true;
    } catch (e) {
      if (status(e) === 409) return false;
      throw e;
    }
  }

  async replace(lease: V1Lease): Promise<boolean> {
    try {
      await this.api.replaceNamespacedLease({
        namespace: lease.metadata?.namespace ?? '',
        name: lease.metadata?.name ?? '',
        body: micro(lease),
      });
      return true;
    } catch (e) {
      if (status(e) === 409) return false;
      throw e;
    }
  }
}
