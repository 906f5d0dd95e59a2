// The consumer-group member id an engine instance last joined under, kept in the instance's work
// dir so that its replacement after a crash can rejoin as that member. kafkajs has no static
// membership (group.instance.id): a SIGKILLed member stays in the group until the coordinator
// expires its session (10 s), and a new member's join waits for that expiry. A JoinGroup under a
// member id the coordinator still knows is that member rejoining, so it completes at once (an id
// it no longer knows gets UNKNOWN_MEMBER_ID, and kafkajs retries with a fresh id).
// Taking over a *live* member's id would make two processes one member, so an id is taken over
// only from a process that ran on this host and is gone (a standby shares the work dir with its
// still-running predecessor; another host cannot tell whether the writer lives). The record is
// touched at every heartbeat, so its age tells whether the coordinator can still know the member:
// an older one is not tried (it would only cost a refused JoinGroup, logged as an error).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Entry {
  memberId: string;
  pid: number;
  host: string;
}

/** Whether process `pid` runs on this host (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseEntry(text: string): Entry | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const { memberId, pid, host } = v as Record<string, unknown>;
  if (typeof memberId !== 'string' || memberId === '' || memberId.length > 1000) return null;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return null;
  if (typeof host !== 'string') return null;
  return { memberId, pid, host };
}

export type GroupMemberLog = (level: 'info' | 'warn', msg: string) => void;

export class GroupMemberFile {
  private readonly file: string;
  private saved: string | null = null;

  constructor(
    workDir: string,
    private readonly groupId: string,
    private readonly log: GroupMemberLog,
    private readonly alive: (pid: number) => boolean = processAlive,
  ) {
    this.file = path.join(workDir, 'group-members', `${groupId.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  }

  private read(): Entry | null {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log('warn', `cannot read ${this.file}: ${String(e)}`);
      return null;
    }
    const entry = parseEntry(text);
    if (!entry) this.log('warn', `ignoring ${this.file}: not a member id record`);
    return entry;
  }

  /**
   * The member id of a predecessor that is gone and whose session (`sessionTimeoutMs`) may still
   * run, to rejoin as; undefined when there is none.
   */
  predecessor(sessionTimeoutMs: number): string | undefined {
    const entry = this.read();
    if (!entry || entry.host !== os.hostname()) return undefined;
    let heartbeatAt: number;
    try {
      heartbeatAt = fs.statSync(this.file).mtimeMs;
    } catch {
      return undefined;
    }
    if (Date.now() - heartbeatAt > sessionTimeoutMs) return undefined;
    // Our own pid in the file is a predecessor whose pid was reused (a container restart).
    if (entry.pid !== process.pid && this.alive(entry.pid)) return undefined;
    // Whether the coordinator still knows it shows in how long the join takes (kafkajs logs a retry).
    this.log(
      'info',
      `group ${this.groupId}: joining as ${entry.memberId}, the member of process ${entry.pid}, gone`,
    );
    return entry.memberId;
  }

  /** Records the id this process joined under (after every join; atomic, best effort). */
  save(memberId: string): void {
    if (memberId === this.saved) return;
    const entry: Entry = { memberId, pid: process.pid, host: os.hostname() };
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify(entry));
      fs.renameSync(tmp, this.file);
      this.saved = memberId;
    } catch (e) {
      this.log('warn', `cannot record the group member id in ${this.file}: ${String(e)}`);
    }
  }

  /** After each heartbeat: the member was alive then (best effort; a failure only costs a takeover). */
  touch(): void {
    if (this.saved === null) return;
    try {
      const now = new Date();
      fs.utimesSync(this.file, now, now);
    } catch {
      // Gone or unwritable: save() said so when it wrote the record, and the next join rewrites it.
    }
  }

  /** After leaving the group: the id is gone, unless another process has recorded its own since. */
  clear(): void {
    const entry = this.read();
    if (!entry || entry.pid !== process.pid || entry.memberId !== this.saved) return;
    try {
      fs.rmSync(this.file, { force: true });
    } catch (e) {
      this.log('warn', `cannot remove ${this.file}: ${String(e)}`);
    }
    this.saved = null;
  }
}
