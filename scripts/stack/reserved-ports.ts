// The stack's ports kept out of the kernel's choice of local ports for outgoing connections.
//
// Linux picks the local end of an outgoing connection from net.ipv4.ip_local_port_range
// (32768–60999 by default), and every port of the stack but the API's and the dashboard's lies in
// it. A connection made before a component starts (Kafka's broker to its controller, a migration,
// a readiness probe) can hold that component's port as its local end, and the component's listen
// then fails with "address already in use": etcd's peer port 52380 did, in a fresh-clone CI run
// (2026-12-05), with nothing listening on it. net.ipv4.ip_local_reserved_ports keeps the kernel
// from choosing the listed ports for outgoing connections; binding them explicitly still works.
// The setting is written only where it is writable (root, a /proc/sys that is not read-only) and
// only ever extended; elsewhere the stack starts as before and says so.
import fs from 'node:fs';
import type { StackConfig } from './config';

export const RESERVED_PORTS_FILE = '/proc/sys/net/ipv4/ip_local_reserved_ports';

/** Every port the stack listens on. */
export function stackPorts(c: StackConfig): number[] {
  const k = c.kube;
  return [
    c.postgresPort,
    c.redisPort,
    c.kafkaPort,
    c.kafkaControllerPort,
    c.apiPort,
    c.dashboardPort,
    k.etcdPort,
    k.etcdPeerPort,
    k.apiPort,
    k.controllerManagerPort,
    k.schedulerPort,
  ];
}

/** Whether `port` is in the kernel's list (`1,2,5-8`, as the file reads; empty: none). */
function covered(list: string, port: number): boolean {
  for (const item of list.split(',')) {
    const [lo, hi = lo] = item.trim().split('-').map(Number);
    if (lo !== undefined && hi !== undefined && port >= lo && port <= hi) return true;
  }
  return false;
}

/** The list with `ports` added, or undefined when it already holds them all. */
export function withReserved(current: string, ports: readonly number[]): string | undefined {
  const list = current.trim();
  const missing = [...new Set(ports)].filter((p) => !covered(list, p)).sort((a, b) => a - b);
  if (missing.length === 0) return undefined;
  return [list, ...missing].filter((s) => s !== '').join(',');
}

/** Reserves `ports` where the setting can be written; says what it did, never throws. */
export function reservePorts(
  ports: readonly number[],
  log: (msg: string) => void,
  file: string = RESERVED_PORTS_FILE,
): void {
  let current: string;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    return; // not Linux, or no such setting: nothing to reserve from
  }
  const next = withReserved(current, ports);
  if (next === undefined) return;
  try {
    fs.writeFileSync(file, next);
    log(`reserved the stack's ports from outgoing connections (${file}: ${next})`);
  } catch (e) {
    log(
      `could not reserve the stack's ports from outgoing connections (${(e as Error).message}); ` +
        'a component may then find its port held by a connection and fail to start',
    );
  }
}
