// Where an upgrade's gap goes: per instance, the old run's last commit, stop and exit and the new
// run's spawn, connect, group assignment, start and first commit, from the engines' own logs
// (the current and the previous run of an instance name: test/support/engine-logs.ts) and their
// progress events. Milestones are milliseconds after the old version's last committed batch
// (the gap's start), so the phases read left to right.
import fs from 'node:fs';
import path from 'node:path';
import {
  currentEngineLog,
  previousEngineLog,
  readEngineLog,
  type EngineLogLine,
} from '../../apps/control-plane/test/support/engine-logs';

/** A progress event as the API returns it (only what the timeline reads). */
export interface TimelineProgress {
  timestamp: string;
  batchDuration?: number;
  sluice: { queryVersion: number; instance: string; tasks?: string[] };
}

export interface InstanceTimeline {
  instance: string;
  /** The old run: its last committed batch, the stop it acknowledged, its exit. */
  oldLastCommit: number | null;
  oldStopping: number | null;
  oldExited: number | null;
  /** The new run: spawned (process start), its modules loaded, connected, first assignment, ready. */
  newSpawned: number | null;
  newProcessUp: number | null;
  /** Pre-started only: prepared and waiting; released after the old run's exit. */
  newStandingBy: number | null;
  newReleased: number | null;
  newConnected: number | null;
  newSourceAssigned: number | null;
  newStarted: number | null;
  /** The new run's first batch that committed: its trigger's start and its commit. */
  newFirstTrigger: number | null;
  newFirstCommit: number | null;
  /** Group generations the new run saw before its first commit (rebalances). */
  generations: number;
}

export interface HandoverTimeline {
  /** Wall clock of the gap's start (the old version's last commit, any instance). */
  origin: string;
  /** Median over instances of each phase, in ms (null when a milestone is missing). */
  phases: Record<string, number | null>;
  instances: InstanceTimeline[];
}

const first = (lines: EngineLogLine[], test: (l: EngineLogLine) => boolean): number | null => {
  const l = lines.find(test);
  return l ? Date.parse(l.time) : null;
};
const last = (lines: EngineLogLine[], test: (l: EngineLogLine) => boolean): number | null => {
  const l = [...lines].reverse().find(test);
  return l ? Date.parse(l.time) : null;
};

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}

/**
 * The hand-over from `oldVersion` to `newVersion` of every instance folder of `queryId` under
 * `home` (the local runtime's SLUICE_HOME). Read right after the upgrade, before another start
 * of the same instance rotates the logs again.
 */
export function handoverTimeline(
  home: string,
  queryId: string,
  events: TimelineProgress[],
  oldVersion: number,
  newVersion: number,
  since: number,
): HandoverTimeline {
  const dir = path.join(home, 'instances', queryId);
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  const committedAt = (e: TimelineProgress) => Date.parse(e.timestamp) + (e.batchDuration ?? 0);
  const ran = (e: TimelineProgress) => (e.sluice.tasks?.length ?? 0) > 0;
  const absolute = names.map((name) => {
    const now = readEngineLog(currentEngineLog(home, queryId, name));
    const before = readEngineLog(previousEngineLog(home, queryId, name));
    const mine = events.filter((e) => ran(e) && e.sluice.instance === name);
    const oldCommits = mine.filter((e) => e.sluice.queryVersion === oldVersion).map(committedAt);
    const newEvents = mine
      .filter((e) => e.sluice.queryVersion === newVersion && committedAt(e) >= since)
      .sort((a, b) => committedAt(a) - committedAt(b));
    const up = now.find((l) => l.msg === 'engine process up');
    const firstCommit = newEvents[0] ? committedAt(newEvents[0]) : null;
    const assignments = now.filter(
      (l) => /group assignment/.test(l.msg) && (firstCommit === null || Date.parse(l.time) <= firstCommit),
    );
    return {
      instance: name,
      oldLastCommit: oldCommits.length ? Math.max(...oldCommits) : null,
      oldStopping: last(before, (l) => l.msg.startsWith('stopping:')),
      oldExited: last(before, (l) => l.msg.startsWith('engine stopped')),
      newSpawned: up ? Date.parse(up.time) - (up.uptimeMs ?? 0) : null,
      newProcessUp: up ? Date.parse(up.time) : null,
      newStandingBy: first(now, (l) => l.msg === 'engine standing by'),
      newReleased: first(now, (l) => l.msg === 'engine released'),
      newConnected: first(now, (l) => l.msg.startsWith('engine connected')),
      newSourceAssigned: first(now, (l) => l.msg.startsWith('source group assignment')),
      newStarted: first(now, (l) => l.msg === 'engine started'),
      newFirstTrigger: newEvents[0] ? Date.parse(newEvents[0].timestamp) : null,
      newFirstCommit: firstCommit,
      generations: new Set(assignments.map((l) => l.generation)).size,
    };
  });
  const oldCommits = absolute.map((i) => i.oldLastCommit).filter((t): t is number => t !== null);
  const origin = oldCommits.length ? Math.max(...oldCommits) : since;
  const rel = (t: number | null) => (t === null ? null : t - origin);
  const instances: InstanceTimeline[] = absolute.map((i) => ({
    ...i,
    oldLastCommit: rel(i.oldLastCommit),
    oldStopping: rel(i.oldStopping),
    oldExited: rel(i.oldExited),
    newSpawned: rel(i.newSpawned),
    newProcessUp: rel(i.newProcessUp),
    newStandingBy: rel(i.newStandingBy),
    newReleased: rel(i.newReleased),
    newConnected: rel(i.newConnected),
    newSourceAssigned: rel(i.newSourceAssigned),
    newStarted: rel(i.newStarted),
    newFirstTrigger: rel(i.newFirstTrigger),
    newFirstCommit: rel(i.newFirstCommit),
  }));
  const phase = (from: keyof InstanceTimeline, to: keyof InstanceTimeline) =>
    median(
      instances.flatMap((i) => {
        const a = i[from];
        const b = i[to];
        return typeof a === 'number' && typeof b === 'number' ? [b - a] : [];
      }),
    );
  return {
    origin: new Date(origin).toISOString(),
    phases: {
      'lastOldCommit→oldExited': phase('oldLastCommit', 'oldExited'),
      'oldExited→newSpawned': phase('oldExited', 'newSpawned'),
      'newSpawned→processUp': phase('newSpawned', 'newProcessUp'),
      'processUp→standingBy (pre-started)': phase('newProcessUp', 'newStandingBy'),
      'oldExited→released (pre-started)': phase('oldExited', 'newReleased'),
      'processUp→connected (not pre-started)': instances.some((i) => i.newReleased !== null)
        ? null
        : phase('newProcessUp', 'newConnected'),
      'released→connected (pre-started)': phase('newReleased', 'newConnected'),
      'connected→started (groups joined)': phase('newConnected', 'newStarted'),
      'started→firstTrigger': phase('newStarted', 'newFirstTrigger'),
      'firstTrigger→firstCommit': phase('newFirstTrigger', 'newFirstCommit'),
    },
    instances,
  };
}
