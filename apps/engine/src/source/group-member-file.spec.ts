import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupMemberFile, processAlive } from './group-member-file';

let dir: string;
let warnings: string[];
let infos: string[];
const log = (level: 'info' | 'warn', m: string) => (level === 'warn' ? warnings : infos).push(m);
const OTHER_PID = 2 ** 22 + 1; // above the largest pid_max Linux allows: its writer is gone
const SESSION_MS = 10_000;
const entryFile = (groupId: string) => path.join(dir, 'group-members', `${groupId}.json`);
const writeEntry = (groupId: string, entry: unknown) => {
  fs.mkdirSync(path.dirname(entryFile(groupId)), { recursive: true });
  fs.writeFileSync(entryFile(groupId), typeof entry === 'string' ? entry : JSON.stringify(entry));
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-member-file-'));
  warnings = [];
  infos = [];
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('GroupMemberFile', () => {
  it('has no predecessor in a fresh work dir', () => {
    expect(new GroupMemberFile(dir, 'g', log).predecessor(SESSION_MS)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it("offers the id of a process that is gone, and this process's own id after a pid reuse", () => {
    writeEntry('g', { memberId: 'm-dead', pid: OTHER_PID, host: os.hostname() });
    expect(new GroupMemberFile(dir, 'g', log).predecessor(SESSION_MS)).toBe('m-dead');
    expect(infos).toEqual([`group g: joining as m-dead, the member of process ${OTHER_PID}, gone`]);
    writeEntry('g', { memberId: 'm-reused', pid: process.pid, host: os.hostname() });
    expect(new GroupMemberFile(dir, 'g', log).predecessor(SESSION_MS)).toBe('m-reused');
  });

  it('never offers the id of a live process (a standby beside its predecessor) or of another host', () => {
    writeEntry('g', { memberId: 'm-live', pid: OTHER_PID, host: os.hostname() });
    expect(new GroupMemberFile(dir, 'g', log, () => true).predecessor(SESSION_MS)).toBeUndefined();
    writeEntry('g', { memberId: 'm-far', pid: OTHER_PID, host: `${os.hostname()}-elsewhere` });
    expect(new GroupMemberFile(dir, 'g', log, () => false).predecessor(SESSION_MS)).toBeUndefined();
  });

  it('does not offer an id whose member the coordinator has expired (no heartbeat within the session)', () => {
    writeEntry('g', { memberId: 'm-old', pid: OTHER_PID, host: os.hostname() });
    const past = new Date(Date.now() - SESSION_MS - 1000);
    fs.utimesSync(entryFile('g'), past, past);
    expect(new GroupMemberFile(dir, 'g', log).predecessor(SESSION_MS)).toBeUndefined();
    // A heartbeat of the process that recorded it keeps it current.
    const f = new GroupMemberFile(dir, 'g', log);
    f.save('m-1');
    fs.utimesSync(entryFile('g'), past, past);
    f.touch();
    expect(new GroupMemberFile(dir, 'g', log).predecessor(SESSION_MS)).toBe('m-1');
  });

  it('ignores a malformed record with a warning', () => {
    for (const bad of [
      '{',
      '[]',
      { memberId: '', pid: 1, host: os.hostname() },
      { memberId: 'm', pid: -1 },
    ]) {
      writeEntry('g', bad);
      expect(new GroupMemberFile(dir, 'g', log).predecessor(SESSION_MS)).toBeUndefined();
    }
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/not a member id record/);
  });

  it('records the id it joined under, one file per group, and removes only its own record', () => {
    const a = new GroupMemberFile(dir, 'sluice-q/source', log);
    a.save('m-1');
    const b = new GroupMemberFile(dir, 'sluice-q/shuffle', log);
    b.save('m-2');
    // This process wrote both: each reads as the predecessor of a process reusing its pid.
    expect(new GroupMemberFile(dir, 'sluice-q/source', log).predecessor(SESSION_MS)).toBe('m-1');
    expect(new GroupMemberFile(dir, 'sluice-q/shuffle', log).predecessor(SESSION_MS)).toBe('m-2');
    a.clear();
    expect(new GroupMemberFile(dir, 'sluice-q/source', log).predecessor(SESSION_MS)).toBeUndefined();
    // Another process (a standby sharing the work dir) recorded its id since: b leaves it.
    writeEntry('sluice-q_shuffle', { memberId: 'm-standby', pid: OTHER_PID, host: os.hostname() });
    b.clear();
    expect(new GroupMemberFile(dir, 'sluice-q/shuffle', log, () => false).predecessor(SESSION_MS)).toBe(
      'm-standby',
    );
    expect(warnings).toEqual([]);
  });

  it('warns instead of failing when the work dir cannot be written', () => {
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, '');
    new GroupMemberFile(file, 'g', log).save('m-1');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot record the group member id/);
  });

  it('tells a live process from a gone one', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(OTHER_PID)).toBe(false);
  });
});
