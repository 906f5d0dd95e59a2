// Orchestrates the components: install what is missing, start, stop, report. PostgreSQL, Redis and
// Kafka are the default stack; `kube` (a local Kubernetes API server) only starts when named.
import fs from 'node:fs';
import { aptInstall } from './apt';
import type { StackComponent } from './component';
import { loadStackConfig, type StackConfig } from './config';
import { KafkaComponent } from './kafka';
import { KubeComponent } from './kube';
import { PostgresComponent } from './postgres';
import { RedisComponent } from './redis';
import { reservePorts, stackPorts } from './reserved-ports';
import { ensureSinkDatabase } from './sink-database';

export function components(config: StackConfig = loadStackConfig()): StackComponent[] {
  return [
    new PostgresComponent(config),
    new RedisComponent(config),
    new KafkaComponent(config),
    new KubeComponent(config),
  ];
}

/** Components by name (the default, non-optional ones when `only` is empty); unknown names are an error naming them. */
export function selectComponents(only: string[], config: StackConfig): StackComponent[] {
  const all = components(config);
  const unknown = only.filter((n) => !all.some((c) => c.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown component ${unknown.join(', ')} (known: ${all.map((c) => c.name).join(', ')})`);
  }
  return only.length === 0 ? all.filter((c) => !c.optional) : all.filter((c) => only.includes(c.name));
}

export async function stackUp(
  log: (msg: string) => void,
  config = loadStackConfig(),
  only: string[] = [],
): Promise<void> {
  const all = selectComponents(only, config);
  fs.mkdirSync(config.home, { recursive: true });
  const missing = [...new Set(all.flatMap((c) => c.missingPackages()))];
  if (missing.length > 0) {
    log(`installing Debian packages: ${missing.join(' ')}`);
    aptInstall(missing, missing.join(', '));
  }
  for (const c of all) c.prepare((m) => log(`${c.name}: ${m}`));
  // Before anything connects: no outgoing connection may then take a port a component listens on.
  reservePorts(stackPorts(config), log);
  // Start one after another: each start is a few seconds and sequential output is readable.
  for (const c of all) {
    if ((await c.state()) === 'up') {
      log(`${c.name}: already up on ${c.port}`);
      continue;
    }
    const t0 = Date.now();
    log(`${c.name}: starting on 127.0.0.1:${c.port}`);
    await c.start((m) => log(`${c.name}: ${m}`));
    log(`${c.name}: up (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (all.some((c) => c instanceof PostgresComponent))
    await ensureSinkDatabase(config, (m) => log(`postgresql: ${m}`));
}

export async function stackDown(
  log: (msg: string) => void,
  config = loadStackConfig(),
  only: string[] = [],
): Promise<void> {
  // A plain `stack:down` stops whatever is up, the optional Kubernetes included.
  const chosen = only.length === 0 ? components(config) : selectComponents(only, config);
  for (const c of chosen.reverse()) {
    if ((await c.state()) !== 'up') continue;
    log(`${c.name}: stopping`);
    await c.stop();
  }
}
