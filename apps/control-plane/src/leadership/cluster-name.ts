// What makes control planes one cluster: the runtime they act on. Replicas of one cluster share a
// leader lock and a progress-ingest group; control planes of different clusters share neither, even
// on one broker or one database (they would wait for each other's leader, or split each other's
// progress events and drop the ones of queries they do not know).
import path from 'node:path';
import type { AppConfig } from '../config/app-config';
import { advisoryLockKey } from './advisory-lock-key';

/** SLUICE_CLUSTER_NAME, or by default the runtime the replicas share. */
export function clusterName(config: AppConfig): string {
  return config.SLUICE_CLUSTER_NAME ?? runtimeScope(config);
}

/** The Kubernetes namespace, or the local runtime's home (where its instances' pid files live). */
export function runtimeScope(config: AppConfig): string {
  return config.SLUICE_RUNTIME === 'kubernetes'
    ? `kubernetes/${config.SLUICE_K8S_NAMESPACE}`
    : `local/${path.resolve(config.SLUICE_HOME)}`;
}

/** A name Kafka and people can read: the cluster name itself, or a hash of a runtime scope. */
export function clusterSlug(cluster: string): string {
  return /^[a-z0-9][a-z0-9-]{0,62}$/.test(cluster)
    ? cluster
    : `scope-${advisoryLockKey(cluster)[1].toString(16).padStart(8, '0')}`;
}
