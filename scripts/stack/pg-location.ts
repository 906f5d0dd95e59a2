// Where the PostgreSQL cluster of one SLUICE_HOME lives.
//
// As root the scripts run PostgreSQL as the `postgres` user (PostgreSQL refuses root), and that
// user must be able to walk every directory down to its data directory. A clone under /root or
// inside a `mktemp -d` folder (mode 0700) is out of its reach, and initdb stops with
// "Permission denied". Rather than loosen the permissions of the user's folders, such a home gets
// its cluster in a *slot* under /var/lib/sluice, one per home:
//
//   /var/lib/sluice/<hash of the home path>/owner      the home it belongs to (root-owned)
//   /var/lib/sluice/<hash of the home path>/postgres/  data/, run/, postgres.log (postgres, 0700)
//   <home>/postgres/location                           the slot's path, so status/down find it
//
// The pointer file is what binds a home to its slot; the owner file lets a copied `.sluice`
// (whose pointer names its origin's slot) be told apart, so two clones never share a cluster.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const SLOT_BASE = '/var/lib/sluice';

export interface PgLocation {
  /** Directory holding data/, run/ and postgres.log. */
  root: string;
  /** The slot under the base directory; undefined when the cluster lives in the home. */
  slot?: string;
}

export interface PlaceOptions {
  /** Whether the postgres user can reach (search) this directory; true when not running as root. */
  reachable: (dir: string) => boolean;
  /** Whether the cluster whose data directory this is has a live postmaster. */
  running: (dataDir: string) => boolean;
  log: (msg: string) => void;
  /** Parent of the slots; a parameter so tests can use a temporary directory. */
  base?: string;
}

/** Whether the postgres user can walk down to `dir` (asked of the kernel, so ACLs count too). */
export function postgresCanReach(dir: string): boolean {
  return (
    spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir], { cwd: '/', stdio: 'ignore' })
      .status === 0
  );
}

export const pointerFile = (home: string): string => path.join(home, 'postgres', 'location');
const ownerFile = (slot: string): string => path.join(slot, 'owner');

function readLine(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The current location, without changing anything (status, down, and start's first look). */
export function readPgLocation(home: string): PgLocation {
  const slot = readLine(pointerFile(home));
  if (slot) return { root: path.join(slot, 'postgres'), slot };
  return { root: path.join(home, 'postgres') };
}

/** 12 hex digits of the home's absolute path: a stable, readable slot name. */
export function slotName(home: string): string {
  return createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 12);
}

/**
 * Decides where this home's cluster lives before it starts, creating the slot if one is needed.
 * Keeps whatever was decided before (pointer file, or a cluster already in the home); only a
 * home without a cluster that the postgres user cannot reach gets a new slot.
 */
export function placePgCluster(home: string, opts: PlaceOptions): PgLocation {
  const base = opts.base ?? SLOT_BASE;
  const current = readPgLocation(home);
  if (current.slot) {
    const owner = readLine(ownerFile(current.slot));
    if (owner === home) return current;
    if (!fs.existsSync(current.slot)) {
      // Removed by hand (e.g. after deleting a clone, see DEVELOPERS.md): decide afresh.
      opts.log(`${current.slot} no longer exists; placing a new cluster`);
      fs.rmSync(pointerFile(home));
    } else if (owner !== undefined && readLine(pointerFile(owner)) === current.slot) {
      // This `.sluice` was copied from `owner`, which still uses the slot: decide afresh.
      opts.log(
        `the PostgreSQL data in ${current.slot} belongs to ${owner} (this .sluice is a copy); placing a new cluster`,
      );
      fs.rmSync(pointerFile(home));
    } else {
      // Moved (the old path no longer points here) or the owner file was lost: adopt the slot.
      fs.writeFileSync(ownerFile(current.slot), `${home}\n`);
      return current;
    }
  }
  const inHome = readPgLocation(home);
  if (opts.reachable(home)) return inHome;
  if (fs.existsSync(path.join(inHome.root, 'data', 'PG_VERSION')))
    throw unreachableCluster(home, inHome.root, opts.reachable);
  return newSlot(home, base, opts);
}

function newSlot(home: string, base: string, opts: PlaceOptions): PgLocation {
  try {
    // Explicit modes: a umask of 077 would otherwise close the way to the slot for postgres.
    if (!fs.existsSync(base)) {
      fs.mkdirSync(base, { recursive: true });
      fs.chmodSync(base, 0o755);
    }
  } catch (e) {
    throw new Error(
      `the postgres user cannot reach ${home}, and ${base} (where its cluster would go instead) cannot be created: ` +
        `${(e as Error).message}. Set SLUICE_HOME to a directory every user can traverse (e.g. SLUICE_HOME=/var/tmp/sluice-$USER)`,
    );
  }
  let slot = path.join(base, slotName(home));
  const owner = readLine(ownerFile(slot));
  if (owner === home) {
    // Left by an earlier `.sluice` at this very path (deleted, since it has no pointer now):
    // its data went with it, as data under `.sluice/` always does.
    const dataDir = path.join(slot, 'postgres', 'data');
    if (opts.running(dataDir)) {
      throw new Error(
        `a PostgreSQL cluster left by an earlier ${home} is still running from ${dataDir}; stop it with ` +
          `\`runuser -u postgres -- pg_ctl -D ${dataDir} -m fast stop\` and run the command again`,
      );
    }
    opts.log(`removing ${slot}, left by an earlier ${home}`);
    fs.rmSync(slot, { recursive: true, force: true });
  } else if (fs.existsSync(slot)) {
    // Taken by a home that was moved away from this path and kept its slot.
    slot = `${slot}-${randomBytes(3).toString('hex')}`;
  }
  fs.mkdirSync(path.join(slot, 'postgres'), { recursive: true });
  fs.chmodSync(slot, 0o755);
  fs.chmodSync(path.join(slot, 'postgres'), 0o700);
  fs.writeFileSync(ownerFile(slot), `${home}\n`);
  fs.mkdirSync(path.dirname(pointerFile(home)), { recursive: true });
  fs.writeFileSync(pointerFile(home), `${slot}\n`);
  opts.log(
    `the postgres user cannot reach ${home}; its cluster lives in ${slot} (recorded in ${pointerFile(home)})`,
  );
  return { root: path.join(slot, 'postgres'), slot };
}

/** A cluster already inside a home the postgres user can no longer reach (a parent was chmod'ed). */
function unreachableCluster(home: string, root: string, reachable: (dir: string) => boolean): Error {
  const parts = path.resolve(home).split(path.sep).filter(Boolean);
  let blocked = home;
  for (let i = 1; i <= parts.length; i++) {
    const dir = path.sep + parts.slice(0, i).join(path.sep);
    if (!reachable(dir)) {
      blocked = dir;
      break;
    }
  }
  return new Error(
    `the PostgreSQL cluster in ${root} is out of the postgres user's reach (${blocked} does not let it through). ` +
      `Either let it through: \`chmod o+x ${blocked}\` (or \`setfacl -m u:postgres:x ${blocked}\`), ` +
      `or start a fresh cluster outside the home: \`rm -rf ${root}\` (its data is lost) and run the command again`,
  );
}
