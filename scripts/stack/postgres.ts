// The project's own PostgreSQL cluster under .sluice/postgres (never the system service).
// PostgreSQL refuses to run as root, so as root we run its binaries as the `postgres` user; when
// that user cannot reach SLUICE_HOME the cluster lives under /var/lib/sluice (pg-location.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { StackConfig } from './config';
import { PortTakenError, type ComponentState, type StackComponent } from './component';
import { placePgCluster, postgresCanReach, readPgLocation, type PgLocation } from './pg-location';
import { isRoot, pidAlive, portOpen, readPid, run, waitFor } from './proc';

function findBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs
    .readdirSync(base)
    .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(base, versions[0], 'bin') : undefined;
}

// pg_ctl hands `-o` to /bin/sh, so a path with a space or quote must be quoted.
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

// sun_path holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH = 107;

export class PostgresComponent implements StackComponent {
  readonly name = 'postgresql';
  readonly port: number;
  private location: PgLocation;

  constructor(private readonly config: StackConfig) {
    this.port = config.postgresPort;
    this.location = readPgLocation(config.home);
  }

  /** data/, run/ and postgres.log: `<home>/postgres`, or a slot under /var/lib/sluice. */
  private get root(): string {
    return this.location.root;
  }

  get dataDir(): string {
    return path.join(this.root, 'data');
  }

  missingPackages(): string[] {
    return findBinDir() ? [] : ['postgresql'];
  }

  prepare(): void {}

  private bin(name: string): string {
    const dir = findBinDir();
    if (!dir) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
    return path.join(dir, name);
  }

  /** Runs a PostgreSQL binary as the owner of the data directory. */
  private pg(name: string, args: string[]): string {
    if (isRoot()) return run('runuser', ['-u', 'postgres', '--', this.bin(name), ...args], { cwd: '/' });
    return run(this.bin(name), args);
  }

  private ownedPid(dataDir = this.dataDir): number | undefined {
    const pid = readPid(path.join(dataDir, 'postmaster.pid'));
    return pidAlive(pid) ? pid : undefined;
  }

  async state(): Promise<ComponentState> {
    const open = await portOpen(this.port);
    if (this.ownedPid() !== undefined) return open ? 'up' : 'down';
    return open ? 'foreign' : 'down';
  }

  async start(log: (msg: string) => void): Promise<void> {
    const s = await this.state();
    if (s === 'up') return;
    if (s === 'foreign') throw new PortTakenError(this.name, this.port, 'SLUICE_PG_PORT');
    if (isRoot()) {
      this.location = placePgCluster(this.config.home, {
        reachable: postgresCanReach,
        running: (dataDir) => this.ownedPid(dataDir) !== undefined,
        log,
      });
    }
    const runDir = path.join(this.root, 'run');
    fs.mkdirSync(runDir, { recursive: true });
    if (isRoot()) run('chown', ['-R', 'postgres:postgres', this.root]);
    // Sluice connects over TCP only; the socket is a convenience for psql on the machine, and
    // a deep home would make its path too long for PostgreSQL to start at all.
    const socketDir =
      Buffer.byteLength(path.join(runDir, `.s.PGSQL.${this.port}`)) <= MAX_SOCKET_PATH ? runDir : '';
    if (!fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) {
      log('initialising cluster');
      this.pg('initdb', ['-D', this.dataDir, '-U', 'sluice', '--auth=trust', '-E', 'UTF8', '--locale=C']);
    }
    const opts = [
      `-p ${this.port}`,
      `-k ${shellQuote(socketDir)}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=300',
      // Local development stack: durability across OS crashes is not needed, speed is.
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
    ].join(' ');
    this.pg('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      path.join(this.root, 'postgres.log'),
      '-o',
      opts,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    await waitFor('PostgreSQL', () => portOpen(this.port), 30_000);
    const exists = run('psql', [
      '-h',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-U',
      'sluice',
      '-d',
      'postgres',
      '-tAc',
      "SELECT 1 FROM pg_database WHERE datname = 'sluice'",
    ]).trim();
    if (exists !== '1') {
      run('psql', [
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-U',
        'sluice',
        '-d',
        'postgres',
        '-c',
        'CREATE DATABASE sluice',
      ]);
    }
  }

  async stop(): Promise<void> {
    const pid = this.ownedPid();
    if (pid === undefined) return;
    this.pg('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
    // pg_ctl returns once postmaster.pid is gone, which the postmaster removes on its way out;
    // "down" means the process is gone too (a start right after must not race it).
    await waitFor('PostgreSQL to exit', async () => !pidAlive(pid), 15_000);
  }
}
