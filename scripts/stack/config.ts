// Ports and directories of the local stack. Every value can be overridden by the environment so
// two checkouts (or CI beside a developer's stack) never collide.
import path from 'node:path';
import { sinkDatabaseUrl } from './sink-database';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${name} must be a TCP port (1-65535), got "${raw}"`);
  }
  return n;
}

export interface StackConfig {
  home: string;
  host: string;
  postgresPort: number;
  redisPort: number;
  kafkaPort: number;
  kafkaControllerPort: number;
  apiPort: number;
  dashboardPort: number;
  /** The `kube` component (kube.ts): etcd client/peer, kube-apiserver, controller-manager, scheduler. */
  kube: {
    etcdPort: number;
    etcdPeerPort: number;
    apiPort: number;
    controllerManagerPort: number;
    schedulerPort: number;
  };
}

export function loadStackConfig(): StackConfig {
  const root = path.resolve(__dirname, '..', '..');
  return {
    home: path.resolve(process.env.SLUICE_HOME ?? path.join(root, '.sluice')),
    host: '127.0.0.1',
    postgresPort: port('SLUICE_PG_PORT', 55432),
    redisPort: port('SLUICE_REDIS_PORT', 56379),
    kafkaPort: port('SLUICE_KAFKA_PORT', 59092),
    kafkaControllerPort: port('SLUICE_KAFKA_CONTROLLER_PORT', 59093),
    apiPort: port('SLUICE_API_PORT', 4400),
    dashboardPort: port('SLUICE_DASHBOARD_PORT', 4401),
    kube: {
      etcdPort: port('SLUICE_ETCD_PORT', 52379),
      etcdPeerPort: port('SLUICE_ETCD_PEER_PORT', 52380),
      apiPort: port('SLUICE_KUBE_API_PORT', 56443),
      controllerManagerPort: port('SLUICE_KUBE_CONTROLLER_MANAGER_PORT', 56257),
      schedulerPort: port('SLUICE_KUBE_SCHEDULER_PORT', 56259),
    },
  };
}

/** Connection settings the apps read, derived from the stack's ports. */
export interface StackEnv {
  [name: string]: string;
  DATABASE_URL: string;
  REDIS_URL: string;
  KAFKA_BROKERS: string;
  SLUICE_API_PORT: string;
  SLUICE_HOME: string;
  SLUICE_SINK_DATABASE_URL: string;
}

export function stackEnv(c: StackConfig = loadStackConfig()): StackEnv {
  return {
    DATABASE_URL: `postgresql://sluice@${c.host}:${c.postgresPort}/sluice`,
    REDIS_URL: `redis://${c.host}:${c.redisPort}`,
    KAFKA_BROKERS: `${c.host}:${c.kafkaPort}`,
    SLUICE_API_PORT: String(c.apiPort),
    SLUICE_HOME: c.home,
    // The default sink connection: a database and role that own only sink tables (sink-database.ts).
    SLUICE_SINK_DATABASE_URL: sinkDatabaseUrl(c),
  };
}
