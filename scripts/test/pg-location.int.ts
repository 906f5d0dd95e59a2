// Where a home's PostgreSQL cluster goes (pg-location.ts), on real folders with real permissions:
// homes inside a 0700 folder, which the postgres user cannot reach (as root it is asked through
// runuser; as another user runuser fails, which counts as unreachable too). Slots go to a
// temporary base instead of /var/lib/sluice. No cluster is started here (fresh-clone.int.ts does);
// a reachable home keeping its cluster is what every integration run does with the shared stack.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  placePgCluster,
  pointerFile,
  postgresCanReach,
  readPgLocation,
  slotName,
  type PlaceOptions,
} from '../stack/pg-location';
import { isRoot, pidAlive, readPid } from '../stack/proc';

let closed: string; // mode 0700, like /root or mktemp -d
let base: string;
const messages: string[] = [];
const opts = (): PlaceOptions => ({
  reachable: postgresCanReach,
  running: (dataDir) => pidAlive(readPid(path.join(dataDir, 'postmaster.pid'))),
  log: (m) => messages.push(m),
  base,
});
const home = (name: string) => path.join(closed, name, '.sluice');
const owner = (slot: string) => fs.readFileSync(path.join(slot, 'owner'), 'utf8').trim();

beforeAll(() => {
  closed = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pgloc-'));
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-slots-'));
});

afterAll(() => {
  fs.rmSync(closed, { recursive: true, force: true });
  fs.rmSync(base, { recursive: true, force: true });
});

describe('placePgCluster', () => {
  it('gives a home the postgres user cannot reach a slot named after its path, and keeps it', () => {
    const h = home('a');
    expect(postgresCanReach(h)).toBe(false);
    const loc = placePgCluster(h, opts());
    expect(loc.slot).toBe(path.join(base, slotName(h)));
    expect(loc.root).toBe(path.join(base, slotName(h), 'postgres'));
    expect(fs.statSync(loc.root).mode & 0o777).toBe(0o700);
    expect(owner(loc.slot!)).toBe(h);
    expect(fs.readFileSync(pointerFile(h), 'utf8').trim()).toBe(loc.slot);
    // What status and down read, and what the next start decides, is the same place.
    expect(readPgLocation(h)).toEqual(loc);
    expect(placePgCluster(h, opts())).toEqual(loc);
    expect(fs.statSync(closed).mode & 0o777).toBe(0o700); // the user's folder is left alone
  });

  it('opens the way to the slot for postgres whatever the umask (077 would leave it closed)', () => {
    const nested = path.join(base, 'created-here');
    const old = process.umask(0o077);
    try {
      const loc = placePgCluster(home('umask'), { ...opts(), base: nested });
      expect(fs.statSync(nested).mode & 0o777).toBe(0o755);
      expect(fs.statSync(loc.slot!).mode & 0o777).toBe(0o755);
      expect(fs.statSync(loc.root).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(old);
    }
  });

  it('gives a copied .sluice its own slot and leaves the original with its own', () => {
    const a = home('copy-from');
    const original = placePgCluster(a, opts());
    const b = home('copy-to');
    fs.cpSync(path.dirname(a), path.dirname(b), { recursive: true });
    expect(readPgLocation(b).slot).toBe(original.slot); // the copy's pointer names the original's slot
    const copy = placePgCluster(b, opts());
    expect(copy.slot).not.toBe(original.slot);
    expect(owner(copy.slot!)).toBe(b);
    expect(owner(original.slot!)).toBe(a);
    expect(placePgCluster(a, opts())).toEqual(original);
    expect(messages.some((m) => m.includes('is a copy'))).toBe(true);
  });

  it('lets a moved .sluice keep its slot, and a new home at the old path gets another one', () => {
    const a = home('move-from');
    const before = placePgCluster(a, opts());
    const c = home('move-to');
    fs.renameSync(path.dirname(a), path.dirname(c));
    expect(placePgCluster(c, opts())).toEqual(before);
    expect(owner(before.slot!)).toBe(c);
    // The old path's slot name is taken by the moved home: a new home there must not get it.
    const again = placePgCluster(a, opts());
    expect(again.slot).not.toBe(before.slot);
    expect(path.basename(again.slot!)).toMatch(new RegExp(`^${slotName(a)}-[0-9a-f]{6}$`));
    expect(owner(before.slot!)).toBe(c);
  });

  it('replaces the slot of a deleted .sluice at the same path, unless its cluster still runs', () => {
    const h = home('recreated');
    const first = placePgCluster(h, opts());
    fs.writeFileSync(path.join(first.root, 'old-data'), 'x');
    fs.rmSync(h, { recursive: true });
    // A live postmaster in the old slot: refuse and name the command that stops it.
    fs.mkdirSync(path.join(first.root, 'data'), { recursive: true });
    fs.writeFileSync(path.join(first.root, 'data', 'postmaster.pid'), `${process.pid}\n`);
    expect(() => placePgCluster(h, opts())).toThrow(/still running .*pg_ctl -D .* stop/);
    fs.rmSync(path.join(first.root, 'data', 'postmaster.pid'));
    const second = placePgCluster(h, opts());
    expect(second.slot).toBe(first.slot);
    expect(fs.existsSync(path.join(second.root, 'old-data'))).toBe(false);
    expect(owner(second.slot!)).toBe(h);
  });

  it('starts a fresh slot when the recorded one was removed by hand', () => {
    const h = home('slot-removed');
    const first = placePgCluster(h, opts());
    fs.rmSync(first.slot!, { recursive: true });
    const second = placePgCluster(h, opts());
    expect(fs.statSync(second.root).isDirectory()).toBe(true);
    expect(owner(second.slot!)).toBe(h);
    expect(readPgLocation(h)).toEqual(second);
  });

  it('stops with both fixes spelled out when a cluster inside the home became unreachable', () => {
    const h = home('in-home');
    fs.mkdirSync(path.join(h, 'postgres', 'data'), { recursive: true });
    fs.writeFileSync(path.join(h, 'postgres', 'data', 'PG_VERSION'), '15\n');
    const expected = isRoot()
      ? new RegExp(`${closed} does not let it through.*chmod o\\+x ${closed}.*rm -rf`)
      : /chmod o\+x .*rm -rf/;
    expect(() => placePgCluster(h, opts())).toThrow(expected);
    expect(fs.existsSync(pointerFile(h))).toBe(false);
  });
});
