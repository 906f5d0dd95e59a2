// The project's own Redis under .sluice/redis (never the system service).
import fs from 'node:fs';
import path from 'node:path';
import type { StackConfig } from './config';
import { PortTakenError, type ComponentState, type StackComponent } from './component';
import { commandExists, pidAlive, portOpen, readPid, run, waitFor } from './proc';

export class RedisComponent implements StackComponent {
  readonly name = 'redis';
  readonly port: number;
  readonly dataDir: string;
  private readonly pidFile: string;

  constructor(config: StackConfig) {
    this.port = config.redisPort;
    this.dataDir = path.join(config.home, 'redis');
    this.pidFile = path.join(this.dataDir, 'redis.pid');
  }

  missingPackages(): string[] {
    return commandExists('redis-server') ? [] : ['redis-server'];
  }

  prepare(): void {}

  private ownedPid(): number | undefined {
    const pid = readPid(this.pidFile);
    return pidAlive(pid) ? pid : undefined;
  }

  async state(): Promise<ComponentState> {
    const open = await portOpen(this.port);
    if (this.ownedPid() !== undefined) return open ? 'up' : 'down';
    return open ? 'foreign' : 'down';
  }

  async start(): Promise<void> {
    const s = await this.state();
    if (s === 'up') return;
    if (s === 'foreign') throw new PortTakenError(this.name, this.port, 'SLUICE_REDIS_PORT');
    fs.mkdirSync(this.dataDir, { recursive: true });
    run('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dataDir,
      '--daemonize',
      'yes',
      '--pidfile',
      this.pidFile,
      '--logfile',
      path.join(this.dataDir, 'redis.log'),
      '--appendonly',
      'yes',
      // BullMQ requires that Redis never evicts its keys.
      '--maxmemory-policy',
      'noeviction',
    ]);
    await waitFor('Redis', async () => (await this.state()) === 'up', 15_000);
  }

  async stop(): Promise<void> {
    const pid = this.ownedPid();
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    await waitFor('Redis to stop', async () => !pidAlive(pid), 15_000);
  }
}
